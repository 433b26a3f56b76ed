/**
 * Slowloris on the headers and on the body (#15 §1 "Slow and hostile clients"): a client that
 * dribbles its request is answered 408 with a JSON body and closed once --header-timeout or
 * --request-timeout passes, while a long streamed answer is never cut by either.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse, postJson, startTestServer, type TestServer } from "../e2e/helpers.js";
import { dribble, openClient, statusOf } from "./clients-sockets.testing.js";

const headerTimeoutMs = 400;
const requestTimeoutMs = 800;
let test: TestServer;

beforeAll(async () => {
  test = await startTestServer({
    models: {
      alpha: {},
      // 30 tokens, 60 ms apart: a stream of ~1.8 s, longer than both timeouts together.
      slow: { reply: Array.from({ length: 30 }, (_, index) => `t${index}`).join(" "), tokenDelayMs: 60 },
    },
    flags: { "header-timeout": `${headerTimeoutMs}ms`, "request-timeout": `${requestTimeoutMs}ms` },
  });
});

afterAll(() => test?.dispose());

function jsonBodyOf(raw: string): { error: { code: string; message: string } } {
  return JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)) as { error: { code: string; message: string } };
}

describe("slowloris", () => {
  it("headers dribbled one line every 100 ms: 408 with a JSON body after --header-timeout, then closed", async () => {
    const client = await openClient(test.url);
    const lines = ["POST /v1/completions HTTP/1.1\r\n", "Host: 127.0.0.1\r\n"];
    for (let index = 0; index < 100; index++) lines.push(`X-Slow-${index}: ${index}\r\n`);
    const sending = dribble(client, lines, 100);
    const { openMs } = await client.closed;
    const linesSent = await sending;
    expect(statusOf(client.received())).toBe(408);
    expect(jsonBodyOf(client.received()).error).toMatchObject({ code: "request-timeout" });
    expect(jsonBodyOf(client.received()).error.message).toContain("--header-timeout");
    // Cut after the header timeout (checked every quarter of it), long before 100 lines (10 s) were
    // sent; the upper bound leaves room for a loaded CI machine.
    expect(openMs).toBeGreaterThanOrEqual(headerTimeoutMs - 50);
    expect(openMs).toBeLessThan(headerTimeoutMs + 4000);
    expect(linesSent).toBeLessThan(50);
  });

  it("a body dribbled one byte every 100 ms: 408 after --request-timeout, then closed; the server goes on", async () => {
    const client = await openClient(test.url);
    const body = JSON.stringify({ model: "alpha", prompt: "hi", max_tokens: 2 });
    client.socket.write(
      `POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const sending = dribble(client, [...body], 100);
    const { openMs } = await client.closed;
    const bytesSent = await sending;
    expect(statusOf(client.received())).toBe(408);
    expect(jsonBodyOf(client.received()).error.code).toBe("request-timeout");
    expect(openMs).toBeGreaterThanOrEqual(requestTimeoutMs - 50);
    expect(openMs).toBeLessThan(requestTimeoutMs + 4000);
    expect(bytesSent).toBeLessThan(body.length);
    // Nothing of the half-read request is left running, and the next request is served.
    expect(test.server.queue.snapshot().loaded.every((model) => model.active === 0)).toBe(true);
    const next = await postJson(`${test.url}/v1/completions`, {
      model: "alpha",
      prompt: "hi",
      max_tokens: 2,
    });
    expect(next.status).toBe(200);
  });

  it("a streamed answer longer than both timeouts is not cut: the timeouts count receiving the request only", async () => {
    const response = await postJson(`${test.url}/v1/chat/completions`, {
      model: "slow",
      messages: [{ role: "user", content: "go" }],
      stream: true,
    });
    expect(response.status).toBe(200);
    const stream = await readSse(response);
    expect(stream.data.at(-1)).toBe("[DONE]");
    // 30 tokens and the final chunk(s): every token arrived.
    expect(stream.raw.match(/"content":" ?t\d+/g)?.length).toBe(30);
  });

  it("an idle keep-alive connection that never sends a request is closed too", async () => {
    const client = await openClient(test.url);
    const { openMs } = await client.closed;
    expect(openMs).toBeLessThan(headerTimeoutMs + 4000);
  });
});
