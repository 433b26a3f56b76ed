/**
 * Speculative decoding by prompt lookup (ADR 0031) on the real engine: greedy output is the same
 * with and without it, on a copying prompt (a passage repeated, then its start again) and on
 * free text; usage (OpenAI and Ollama) and /v1/metrics report drafted and accepted tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, readRest, sseData, startModelServer, type ModelTestServer } from "./helpers.js";
import { completeGreedy, freePrompt, storyStart, type Completion } from "./speculative.testing.js";

const start = storyStart;
const free = freePrompt;
const maxTokens = 64;
const complete = (url: string, prompt: string): Promise<Completion> => completeGreedy(url, prompt, maxTokens);

describe("speculative decoding (real engine, stories260K)", () => {
  let off: ModelTestServer | undefined;
  let on: ModelTestServer | undefined;
  let copyPrompt: string;
  let expected: { copy: Completion; free: Completion };

  beforeAll(async () => {
    off = await startModelServer({ speculative: "off" });
    const passage = start + (await complete(off.url, start)).text;
    copyPrompt = `${passage}\n${passage}\n${start}`;
    expected = { copy: await complete(off.url, copyPrompt), free: await complete(off.url, free) };
    await off.dispose();
    off = undefined;
    on = await startModelServer({ speculative: "auto" });
  });
  afterAll(async () => {
    await off?.dispose();
    await on?.dispose();
  });

  it("reports no drafts when it is off", () => {
    expect(expected.copy.drafted).toBeUndefined();
    expect(expected.free.drafted).toBeUndefined();
  });

  it("gives the same greedy text on a copying prompt, with drafts accepted", async () => {
    const copy = await complete(on!.url, copyPrompt);
    expect(copy.text).toBe(expected.copy.text);
    expect(copy.drafted).toBeGreaterThan(0);
    expect(copy.accepted).toBeGreaterThan(0);
    expect(copy.accepted).toBeLessThanOrEqual(copy.drafted!);
  });

  it("gives the same greedy text on free text", async () => {
    const text = await complete(on!.url, free);
    expect(text.text).toBe(expected.free.text);
    expect(text.drafted).toBeDefined();
  });

  it("does not speculate with a repeat penalty (it would change the text)", async () => {
    const response = await postJson(`${on!.url}/v1/completions`, {
      model: "stories260K",
      prompt: copyPrompt,
      max_tokens: 16,
      temperature: 0,
      frequency_penalty: 0.5,
    });
    const body = (await response.json()) as { usage: Record<string, unknown> };
    expect(body.usage["completion_tokens_details"]).toBeUndefined();
  });

  it("does not speculate for sampled requests under auto", async () => {
    const response = await postJson(`${on!.url}/v1/completions`, {
      model: "stories260K",
      prompt: copyPrompt,
      max_tokens: 16,
      temperature: 0.8,
      seed: 7,
    });
    const body = (await response.json()) as { usage: Record<string, unknown> };
    expect(body.usage["completion_tokens_details"]).toBeUndefined();
  });

  it("reports drafted and accepted tokens in Ollama's reply and in /v1/metrics", async () => {
    const response = await postJson(`${on!.url}/api/generate`, {
      model: "stories260K",
      prompt: copyPrompt,
      stream: false,
      options: { temperature: 0, num_predict: maxTokens, repeat_penalty: 1 },
    });
    const body = (await response.json()) as { response: string; draft_n?: number; draft_n_accepted?: number };
    expect(body.response).toBe(expected.copy.text);
    expect(body.draft_n).toBeGreaterThan(0);
    expect(body.draft_n_accepted).toBeGreaterThan(0);
    const metrics = (await (await fetch(`${on!.url}/v1/metrics?window=5m`)).json()) as {
      models: Record<string, { tokens: { drafted: number; accepted: number } }>;
    };
    const tokens = metrics.models["stories260K"]!.tokens;
    expect(tokens.drafted).toBeGreaterThan(0);
    expect(tokens.accepted).toBeGreaterThan(0);
    expect(tokens.accepted).toBeLessThanOrEqual(tokens.drafted);
  });

  it("leaves a greedy request that starts while another decodes on the plain path", async () => {
    const first = await postJson(`${on!.url}/v1/completions`, {
      model: "stories260K",
      prompt: copyPrompt,
      max_tokens: 400,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    const firstChunk = new TextDecoder().decode((await reader.read()).value);
    const crowded = await complete(on!.url, free);
    const firstBody = firstChunk + (await readRest(reader));
    expect(crowded.text).toBe(expected.free.text);
    expect(crowded.drafted).toBeUndefined();
    const usage = sseData(firstBody)
      .filter((data) => data !== "[DONE]")
      .map(
        (data) =>
          JSON.parse(data) as {
            usage: { completion_tokens: number; completion_tokens_details?: unknown } | null;
          },
      )
      .find((chunk) => chunk.usage !== null)!.usage!;
    // The first started alone and still speculates; it was decoding when the second started.
    expect(usage.completion_tokens_details).toBeDefined();
    expect(usage.completion_tokens).toBeGreaterThan(maxTokens);
  });
});
