/**
 * Stream coalescing on the real engine (ADR 0019): tokens that come close together reach the
 * client in fewer socket reads, yet still as one SSE event or NDJSON line per token, with the
 * same text as the non-streaming answer.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";

interface Received {
  /** Socket reads that brought data: at most the server's writes. */
  reads: number;
  body: string;
}

function streamBody(url: string, body: unknown): Promise<Received> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) },
    });
    outgoing.on("error", reject);
    outgoing.on("response", (response) => {
      const received: Received = { reads: 0, body: "" };
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        received.reads += 1;
        received.body += chunk;
      });
      response.on("end", () => resolve(received));
      response.on("error", reject);
    });
    outgoing.end(payload);
  });
}

const prompt = "Once upon a time there was a little girl named Lily.";

describe("stream coalescing on the real engine", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    // A window far above stories260K's ~1 ms per token, so coalescing shows on a busy machine too.
    test = await startModelServer({ "stream-coalesce-ms": "50" });
  });
  afterAll(async () => test.dispose());

  it("SSE: one event per token, fewer reads than events, the same text as without streaming", async () => {
    const body = { model: "stories260K", prompt, max_tokens: 120, temperature: 0 };
    const streamed = await streamBody(`${test.url}/v1/completions`, {
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = streamed.body
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: {"))
      .map((frame) => JSON.parse(frame.slice("data: ".length)) as Record<string, unknown>);
    const texts = events
      .map((event) => (event["choices"] as { text: string }[])[0]?.text ?? "")
      .filter((text) => text.length > 0);
    const usage = events.at(-1)?.["usage"] as { completion_tokens: number };
    expect(usage.completion_tokens).toBeGreaterThan(30);
    // One event per token (a multi-byte character's tokens share one); ~10 reads measured, ~100 with coalescing off.
    expect(texts.length).toBeGreaterThan(usage.completion_tokens - 5);
    expect(texts.length).toBeLessThanOrEqual(usage.completion_tokens);
    expect(streamed.reads).toBeLessThan(texts.length / 4);
    const whole = (await (await postJson(`${test.url}/v1/completions`, body)).json()) as {
      choices: { text: string }[];
    };
    expect(texts.join("")).toBe(whole.choices[0]?.text);
  });

  it("NDJSON: one line per token, fewer reads than lines", async () => {
    const streamed = await streamBody(`${test.url}/api/generate`, {
      model: "stories260K",
      prompt,
      options: { num_predict: 120, temperature: 0 },
    });
    const lines = streamed.body
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as { response: string; done: boolean; eval_count?: number });
    const pieces = lines.filter((line) => !line.done && line.response.length > 0);
    const evalCount = lines.at(-1)?.eval_count ?? 0;
    expect(evalCount).toBeGreaterThan(30);
    expect(pieces.length).toBeGreaterThan(evalCount - 5);
    expect(streamed.reads).toBeLessThan(pieces.length / 4);
  });
});
