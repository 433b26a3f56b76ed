/**
 * Graceful shutdown as the README promises it (issue #10, item 4): during --shutdown-grace the
 * port stays open, /ready answers 503 and new generations are refused with 503 and Retry-After,
 * streams that finish in time finish normally, and the ones still running at the end of the
 * grace end with their dialect's final error event (SSE `data: {"error": …}`, an NDJSON error
 * line) instead of a torn connection. Then the port closes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import {
  bodyOf,
  parseSse,
  postJson,
  readNdjson,
  sleep,
  sseJson,
  startTestServer,
  type TestServer,
} from "./helpers.js";

let test: TestServer | undefined;

afterEach(async () => {
  await test?.dispose();
  test = undefined;
});

const longReply = Array.from({ length: 400 }, (_, index) => `w${index}`).join(" ");

async function startServing(): Promise<TestServer> {
  return startTestServer({
    models: { slow: { reply: longReply, tokenDelayMs: 20 }, quick: { reply: "a b c d e", tokenDelayMs: 40 } },
    flags: { "shutdown-grace": "1s", parallel: "4" },
  });
}

function chat(model: string) {
  return { model, messages: [{ role: "user", content: "go" }], stream: true };
}

describe("graceful shutdown", () => {
  it("keeps the port open and refuses new work while draining, then ends each unfinished stream with an error event", async () => {
    test = await startServing();
    const url = test.url;
    const sse = await postJson(`${url}/v1/chat/completions`, chat("slow"));
    const ndjson = await postJson(`${url}/api/chat`, chat("slow"));
    const finishing = await postJson(`${url}/v1/chat/completions`, chat("quick"));
    expect([sse.status, ndjson.status, finishing.status]).toEqual([200, 200, 200]);
    const bodies = [sse.text(), readNdjson(ndjson), finishing.text()] as const;
    await sleep(100);

    const closing = test.server.close();
    await sleep(50);
    // Draining, with the port open: readiness says no, new work gets a retryable 503.
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    const refusedOpenAi = await postJson(`${url}/v1/chat/completions`, { ...chat("quick"), stream: false });
    expect(refusedOpenAi.status).toBe(503);
    expect(refusedOpenAi.headers.get("retry-after")).toBe("5");
    expect((await bodyOf(refusedOpenAi)).error.code).toBe("shutting-down");
    const refusedOllama = await postJson(`${url}/api/generate`, { model: "quick", prompt: "go" });
    expect(refusedOllama.status).toBe(503);
    expect(refusedOllama.headers.get("retry-after")).toBe("5");
    expect((await bodyOf(refusedOllama)).error).toMatch(/shutting down/);
    expect((await postJson(`${url}/v1/embeddings`, { model: "quick", input: "x" })).status).toBe(503);
    expect((await fetch(`${url}/health`)).status).toBe(200);

    // A stream that ends within the grace ends normally.
    const finished = parseSse(await bodies[2]);
    expect(finished.data.at(-1)).toBe("[DONE]");

    // The long ones are ended at the grace's end, each with one final error event, and closed cleanly.
    const sseStream = parseSse(await bodies[0]);
    expect(sseStream.data.at(-1)).not.toBe("[DONE]");
    const lastSse = sseJson(sseStream).at(-1);
    expect(lastSse.error.code).toBe("shutting-down");
    expect(lastSse.error.message).toMatch(/shutting down/);
    expect(sseJson(sseStream).length).toBeGreaterThan(5);
    const lines = await bodies[1];
    expect(lines.at(-1).error).toMatch(/shutting down/);
    expect(lines.filter((line) => line.done === true)).toEqual([]);
    expect(lines.length).toBeGreaterThan(5);

    await closing;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it("a non-streaming request still running at the grace's end gets a 503 shutting-down error", async () => {
    test = await startServing();
    const pending = postJson(`${test.url}/api/chat`, { ...chat("slow"), stream: false });
    await sleep(100);
    const closing = test.server.close();
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect((await bodyOf(response)).error).toMatch(/shutting down/);
    await closing;
  });

  it("with nothing running, closes at once instead of waiting out the grace", async () => {
    test = await startServing();
    const started = systemTime.monotonicNow();
    await test.server.close();
    expect(systemTime.monotonicNow() - started).toBeLessThan(500);
  });
});
