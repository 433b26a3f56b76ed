/**
 * The HTTP front door (issue #10, item 10): a known path with the wrong method is a 405 with an
 * `Allow` header, not a 404; and each request leaves one info-level access-log line (method,
 * path, status, duration, request id) written when the response has ended, with no query
 * string, no key and no prompt text.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import { baseFlags, bodyOf, makeHome, postJson, readSse, sleep, type Json } from "./helpers.js";

let server: RunningServer;
let home: string;
const lines: Json[] = [];

beforeAll(async () => {
  const made = makeHome(["alpha"]);
  home = made.home;
  const config = loadConfig({
    flags: { ...baseFlags(made.home, made.modelsDir) },
    env: {},
    readConfigFile: false,
  });
  const logger = createLogger("info", (line) => lines.push(JSON.parse(line)));
  const engine = new FakeEngine({ alpha: { reply: "one two three four five", tokenDelayMs: 30 } });
  server = await startServer(config, { engine, logger, handleSignals: false });
});

afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

describe("wrong method on a known path", () => {
  it.each([
    ["GET", "/api/chat", "POST"],
    ["GET", "/api/generate", "POST"],
    ["GET", "/v1/chat/completions", "POST"],
    ["PUT", "/v1/models", "GET, HEAD"],
  ])("%s %s is a 405 with Allow: %s", async (method, path, allow) => {
    const response = await fetch(`${server.url}${path}`, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe(allow);
    const body = await bodyOf(response);
    if (path.startsWith("/api/")) expect(body.error).toMatch(new RegExp(`${path} does not accept ${method}`));
    else expect(body.error.code).toBe("method-not-allowed");
  });

  it("an unknown path is still a 404", async () => {
    expect((await fetch(`${server.url}/api/nothing-here`)).status).toBe(404);
  });
});

describe("access log", () => {
  it("writes one line per request when the response has ended, without query string or prompt", async () => {
    const prompt = "a secret prompt about turnips";
    const response = await postJson(
      `${server.url}/v1/chat/completions?api_key=sk-hidden-123`,
      { model: "alpha", stream: true, messages: [{ role: "user", content: prompt }] },
      { headers: { "x-request-id": "logged-1" } },
    );
    expect(response.status).toBe(200);
    await readSse(response);
    await sleep(50);
    const requestLines = lines.filter((line) => line.message === "Request" && line.requestId === "logged-1");
    expect(requestLines).toHaveLength(1);
    const line = requestLines[0];
    expect(line).toMatchObject({
      level: "info",
      method: "POST",
      path: "/v1/chat/completions",
      status: 200,
      requestId: "logged-1",
    });
    // Written at the stream's end: five tokens 30 ms apart.
    expect(line.durationMs).toBeGreaterThanOrEqual(120);
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain("sk-hidden-123");
    expect(everything).not.toContain("turnips");
  });

  it("logs errors with their status too", async () => {
    await fetch(`${server.url}/api/chat`, { headers: { "x-request-id": "logged-405" } });
    await sleep(20);
    expect(lines.find((line) => line.requestId === "logged-405")).toMatchObject({
      message: "Request",
      method: "GET",
      path: "/api/chat",
      status: 405,
    });
  });
});
