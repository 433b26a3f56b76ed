/**
 * Browser safety end to end: DNS rebinding (a foreign Host), foreign Origins, CORS for the
 * origins the operator lists, and the per-address limit on failed authentication.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerEvents } from "../../src/core/index.js";
import { startTestServer, type TestServer } from "./helpers.js";

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http, because fetch does not let a caller set Host. */
function send(
  url: string,
  options: { method?: string; headers: Record<string, string> },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: options.method ?? "GET",
      headers: options.headers,
      agent: false,
    });
    request.once("error", reject);
    request.once("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.once("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    request.end();
  });
}

describe("Host and Origin checks", () => {
  let test: TestServer;
  let url: string;
  let port: number;

  beforeAll(async () => {
    test = await startTestServer({
      flags: { "allowed-hosts": "rawrxd.lan", "cors-origins": "https://app.example" },
    });
    url = test.url;
    port = test.server.port;
  });
  afterAll(async () => test.dispose());

  it("refuses a Host that is not an address, localhost, the bound host or an allowed name", async () => {
    for (const host of [`evil.example:${port}`, "attacker.test", `127.0.0.1.evil.example:${port}`]) {
      const answer = await send(`${url}/v1/models`, { headers: { host } });
      expect(answer.status, host).toBe(403);
      expect(answer.body).toContain("--allowed-hosts");
    }
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      `rawrxd.lan:${port}`,
      "RAWRXD.LAN",
    ]) {
      expect((await send(`${url}/v1/models`, { headers: { host } })).status, host).toBe(200);
    }
  });

  it("refuses a foreign Origin, lets the same origin and listed origins through", async () => {
    const foreign = await send(`${url}/v1/models`, { headers: { origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain("--cors-origins");
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
    expect((await send(`${url}/v1/models`, { headers: { origin: "null" } })).status).toBe(403);

    const same = await send(`${url}/v1/models`, { headers: { origin: url } });
    expect(same.status).toBe(200);
    expect(same.headers["access-control-allow-origin"]).toBeUndefined();

    const listed = await send(`${url}/v1/models`, { headers: { origin: "https://app.example" } });
    expect(listed.status).toBe(200);
    expect(listed.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(listed.headers["vary"]).toContain("Origin");
    expect(listed.headers["access-control-expose-headers"]).toContain("X-Request-Id");
  });

  it("answers a CORS preflight for a listed origin and refuses it for others", async () => {
    const preflight = await send(`${url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(preflight.headers["access-control-allow-methods"]).toContain("POST");
    expect(preflight.headers["access-control-allow-methods"]).toContain("PUT");
    expect(String(preflight.headers["access-control-allow-headers"]).toLowerCase()).toContain(
      "authorization",
    );
    expect(preflight.headers["access-control-max-age"]).toBe("600");

    const refused = await send(`${url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("failed authentication limit", () => {
  it("answers 429 with Retry-After once an address fails too often, even to a good key", async () => {
    const test = await startTestServer({ flags: { "api-keys": "good", "auth-failures-per-minute": "3" } });
    try {
      const limited: ServerEvents["auth-rate-limited"][] = [];
      const failed: ServerEvents["auth-failed"][] = [];
      test.server.events.on("auth-rate-limited", (event) => limited.push(event));
      test.server.events.on("auth-failed", (event) => failed.push(event));
      expect(
        (await fetch(`${test.url}/v1/models`, { headers: { authorization: "Bearer good" } })).status,
      ).toBe(200);
      for (const key of ["bad1", "bad2", "bad3"]) {
        const response = await fetch(`${test.url}/v1/models`, {
          headers: { authorization: `Bearer ${key}` },
        });
        expect(response.status).toBe(401);
        await response.arrayBuffer();
      }
      expect(failed.map((event) => event.reason)).toEqual(["invalid-key", "invalid-key", "invalid-key"]);
      const attempts: Record<string, string>[] = [
        { authorization: "Bearer bad4" },
        { authorization: "Bearer good" },
        {},
      ];
      for (const headers of attempts) {
        const response = await fetch(`${test.url}/v1/models`, { headers });
        expect(response.status).toBe(429);
        const retryAfter = Number(response.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
        const body = (await response.json()) as { error: { type: string; code: string } };
        expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate-limited" });
      }
      expect(limited).toHaveLength(3);
      expect(limited[0]).toMatchObject({
        sourceAddress: expect.stringMatching(/127\.0\.0\.1/),
        path: "/v1/models",
      });
      // /health stays reachable.
      expect((await fetch(`${test.url}/health`)).status).toBe(200);
    } finally {
      await test.dispose();
    }
  });
});
