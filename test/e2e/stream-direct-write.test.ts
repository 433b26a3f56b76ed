/**
 * Streams are written straight to Node's response (src/api/frame-writer.ts): the headers that
 * middleware adds after the route returns (request id, CORS) are still on the head, the body is
 * chunked with the stream's content type, and every frame arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  postJson,
  readNdjson,
  readSse,
  sseJson,
  chatContent,
  startTestServer,
  type TestServer,
} from "./helpers.js";

const origin = "http://editor.example";
let test: TestServer;

beforeAll(async () => {
  test = await startTestServer({
    models: { alpha: { reply: "one two three four five six seven eight" } },
    flags: { "cors-origins": origin },
  });
});

afterAll(async () => {
  await test.dispose();
});

describe("the direct write path", () => {
  it("an SSE stream carries the middleware's headers and every frame", async () => {
    const response = await postJson(
      `${test.url}/v1/chat/completions`,
      { model: "alpha", stream: true, messages: [{ role: "user", content: "Hi" }] },
      { headers: { "x-request-id": "direct-sse-1", origin } },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-request-id")).toBe("direct-sse-1");
    expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    expect(response.headers.get("x-hono-already-sent")).toBeNull();
    const stream = await readSse(response);
    expect(stream.data.at(-1)).toBe("[DONE]");
    expect(chatContent(sseJson(stream))).toBe("one two three four five six seven eight");
  });

  it("an NDJSON stream carries the middleware's headers and every line", async () => {
    const response = await postJson(
      `${test.url}/api/generate`,
      { model: "alpha", prompt: "Hi" },
      { headers: { "x-request-id": "direct-ndjson-1", origin } },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    expect(response.headers.get("x-request-id")).toBe("direct-ndjson-1");
    expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    const lines = await readNdjson(response);
    expect(lines.at(-1)?.done).toBe(true);
    expect(lines.map((line: { response?: string }) => line.response ?? "").join("")).toBe(
      "one two three four five six seven eight",
    );
  });
});
