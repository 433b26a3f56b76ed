/**
 * Hostile clients by the connection (#15 §1 "Slow and hostile clients"): 1,000 connections opened
 * and dropped (no descriptor leak, the server keeps serving), a burst far beyond --max-queue
 * (every answer a 200 or a 429/503 with Retry-After: no 5xx, no reset), and clients that leave
 * mid-prompt and mid-generation (sequence freed; metrics and the audit log record a cancel).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerEvents } from "../../src/core/index.js";
import { postJson, rawPost, startTestServer, waitFor, type TestServer } from "../e2e/helpers.js";
import { openClient, openFdCount } from "./clients-sockets.testing.js";

const adminKey = "rxd_clients_admin_key_0123456";
const auth = { authorization: `Bearer ${adminKey}` };
const tenTokens = "a b c d e f g h i j";
let test: TestServer;

beforeAll(async () => {
  test = await startTestServer({
    models: {
      alpha: {},
      // Each request holds the only sequence for ~0.5 s.
      busy: { reply: tenTokens, tokenDelayMs: 50 },
      // The first token takes 400 ms: a stand-in for a long prompt being evaluated.
      thinker: { reply: tenTokens, tokenDelayMs: 400 },
      drip: { reply: Array.from({ length: 200 }, (_, index) => `d${index}`).join(" "), tokenDelayMs: 20 },
    },
    flags: { "api-keys": adminKey, parallel: "1", "max-queue": "4", "max-loaded-models": "8" },
  });
});

afterAll(() => test?.dispose());

const active = (model: string): number | undefined =>
  test.server.queue.snapshot().loaded.find((loaded) => loaded.name === model)?.active;

describe("connections opened and dropped", () => {
  it("1,000 connections (idle, half a request, a whole request) dropped: no descriptor leak, still serving", async () => {
    // Warm up: the first request opens what stays open (database, audit segment, the model).
    await (
      await postJson(
        `${test.url}/v1/completions`,
        { model: "alpha", prompt: "hi", max_tokens: 2 },
        { headers: auth },
      )
    ).arrayBuffer();
    const before = await openFdCount();
    for (let batch = 0; batch < 10; batch++) {
      const clients = await Promise.all(Array.from({ length: 100 }, () => openClient(test.url)));
      for (const [index, client] of clients.entries()) {
        if (index % 3 === 1)
          client.socket.write("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le");
        if (index % 3 === 2) {
          const body = JSON.stringify({ model: "alpha", prompt: "hi", max_tokens: 2 });
          client.socket.write(
            `POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${adminKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          );
        }
      }
      for (const client of clients) client.socket.destroy();
      await Promise.all(clients.map((client) => client.closed));
    }
    // Every server-side socket closes once the server notices its peer is gone.
    await waitFor(async () => (await openFdCount()) <= before + 2, "the descriptors to return", 10_000);
    const health = await fetch(`${test.url}/health`, { headers: auth });
    expect(health.status).toBe(200);
    await waitFor(() => active("alpha") === 0, "no request left running", 2000);
  });
});

describe("a burst beyond --max-queue", () => {
  it("40 requests at once over both dialects: each a 200, or a 429 (/v1) / 503 (/api) with Retry-After; no 5xx, no reset", async () => {
    const paths = ["/v1/chat/completions", "/api/chat"];
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, index) => {
        const path = paths[index % 2]!;
        try {
          const response = await postJson(
            `${test.url}${path}`,
            {
              model: "busy",
              messages: [{ role: "user", content: "go" }],
              stream: index % 4 < 2 ? false : true,
            },
            { headers: auth },
          );
          const text = await response.text();
          return { path, status: response.status, retryAfter: response.headers.get("retry-after"), text };
        } catch (error) {
          return {
            path,
            status: 0,
            retryAfter: null,
            text: `connection failed: ${(error as Error).message}`,
          };
        }
      }),
    );
    const served = results.filter((result) => result.status === 200);
    const refused = results.filter((result) => result.status !== 200);
    // One running and four queued at the moment of the burst are served; most are refused.
    expect(served.length).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThan(0);
    for (const result of refused) {
      expect(result.status, result.text).toBe(result.path.startsWith("/v1") ? 429 : 503);
      expect(Number(result.retryAfter)).toBeGreaterThan(0);
      expect(JSON.parse(result.text)).toHaveProperty("error");
    }
    await waitFor(() => active("busy") === 0, "the burst to drain", 10_000);
  });
});

describe("clients that leave", () => {
  const ends: ServerEvents["request-end"][] = [];
  beforeAll(() => {
    test.server.events.on("request-end", (event) => ends.push(event));
  });

  it.each([
    ["mid-prompt (before the first token)", "thinker", false],
    ["mid-generation (after the first token)", "drip", true],
  ])("%s: the sequence is freed and the end is recorded as cancelled", async (_when, model, waitForToken) => {
    const request = rawPost(
      `${test.url}/v1/chat/completions`,
      { model, messages: [{ role: "user", content: "go" }], stream: true },
      auth,
    );
    await waitFor(() => active(model) === 1, "the request to take the sequence", 2000);
    if (waitForToken) {
      const response = await request.response;
      await new Promise((done) => response.once("data", done));
    }
    request.destroy();
    await waitFor(() => active(model) === 0, "the sequence to be freed", 2000);
    const end = await waitFor(() => ends.find((event) => event.model === model), "the request-end event");
    expect(end.outcome).toBe("cancelled");
    if (!waitForToken) expect(end.completionTokens).toBe(0);

    const metrics = await (await fetch(`${test.url}/v1/metrics`, { headers: auth })).json();
    expect(JSON.stringify(metrics)).toMatch(/"cancelled":[1-9]/);
    const audit = await waitFor(async () => {
      const page = (await (
        await fetch(`${test.url}/v1/audit?type=inference&request_id=${end.requestId}`, { headers: auth })
      ).json()) as { records: { details: { finishReason?: string } }[] };
      return page.records[0];
    }, "the request's audit record");
    expect(audit.details.finishReason).toBe("cancelled");
  });
});
