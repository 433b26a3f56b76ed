/**
 * A client that never reads its stream, on the real engine (#15 §1). stories260K's whole context
 * (~2,000 tokens, ~400 kB of SSE) fits in loopback socket buffers, so here the runner need not
 * pause: the pause itself is asserted at the runner (test/model/flow-control.test.ts) and over
 * HTTP with a 21 MB stream (test/e2e/streaming.test.ts "backpressure"). What this adds on the
 * real engine: the unread stream does not hold up another client, the main process's memory
 * stays bounded, and when the client finally reads, the whole stream is there and ends normally.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import { postJson, startModelServer, type ModelTestServer } from "../model/helpers.js";
import { openClient } from "./clients-sockets.testing.js";

let test: ModelTestServer;

beforeAll(async () => {
  test = await startModelServer({ parallel: "2", "context-size": "2048" });
});

afterAll(() => test?.dispose());

describe("a client that never reads", () => {
  it("does not hold up another client, keeps memory bounded, and gets the whole stream when it reads", async () => {
    const client = await openClient(test.url);
    const body = JSON.stringify({
      model: "stories260K",
      prompt: "Once upon a time",
      max_tokens: 2000,
      temperature: 0.9,
      seed: 7,
      stream: true,
    });
    client.socket.pause();
    const heapBefore = process.memoryUsage().heapUsed;
    client.socket.write(
      `POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const ended = new Promise<{ outcome: string; completionTokens: number }>((resolve) =>
      test.server.events.on("request-end", (event) => {
        if (event.completionTokens > 100) resolve(event);
      }),
    );
    // Another client is answered while the unread stream runs.
    const other = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt: "One day",
      max_tokens: 8,
    });
    expect(other.status).toBe(200);
    expect(((await other.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(
      8,
    );
    const end = await ended;
    expect(end.outcome).toBe("length");
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);

    client.socket.resume();
    const deadline = systemTime.monotonicNow() + 30_000;
    while (!client.received().includes("data: [DONE]") && systemTime.monotonicNow() < deadline)
      await systemTime.sleep(20);
    const raw = client.received();
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).toContain("data: [DONE]");
    client.socket.destroy();
  });
});
