/**
 * logprobs / top_logprobs on /v1/chat/completions and /v1/completions, on the real engine:
 * one entry per generated token, log-probabilities ≤ 0, alternatives most likely first.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sseData, startModelServer, type ModelTestServer } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function expectWellFormed(
  entries: { logprob: number; top: { logprob: number }[] }[],
  topCount: number,
): void {
  for (const entry of entries) {
    expect(entry.logprob).toBeLessThanOrEqual(0);
    expect(entry.top.length).toBeLessThanOrEqual(topCount);
    const tops = entry.top.map((top) => top.logprob);
    expect([...tops].sort((a, b) => b - a)).toEqual(tops);
  }
}

describe("logprobs on the real engine", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    test = await startModelServer();
  });
  afterAll(async () => test.dispose());

  it("chat: logprobs.content has one entry per token with top_logprobs", async () => {
    const response = await postJson(`${test.url}/v1/chat/completions`, {
      model: "stories260K",
      messages: [{ role: "user", content: "Once upon a time" }],
      max_tokens: 8,
      temperature: 0.7,
      seed: 3,
      logprobs: true,
      top_logprobs: 3,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    const content = body.choices[0].logprobs.content as Json[];
    expect(content).toHaveLength(Number(body.usage.completion_tokens));
    expect(content[0].top_logprobs).toHaveLength(3);
    expect(content[0].bytes).toEqual([...Buffer.from(content[0].token as string)]);
    expectWellFormed(
      content.map((entry) => ({ logprob: entry.logprob, top: entry.top_logprobs })),
      3,
    );
  });

  it("completions: the legacy arrays, streamed per chunk", async () => {
    const response = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt: "Once upon a time",
      max_tokens: 6,
      temperature: 0,
      logprobs: 2,
      stream: true,
    });
    const chunks = sseData(await response.text())
      .filter((data) => data !== "[DONE]")
      .map((data): Json => JSON.parse(data));
    const withLogprobs = chunks.filter((chunk) => chunk.choices[0]?.logprobs != null);
    expect(withLogprobs.length).toBeGreaterThan(0);
    const tokens = withLogprobs.flatMap((chunk) => chunk.choices[0].logprobs.tokens as string[]);
    const tops = withLogprobs.flatMap(
      (chunk) => chunk.choices[0].logprobs.top_logprobs as Record<string, number>[],
    );
    expect(tops).toHaveLength(tokens.length);
    for (const top of tops) expect(Object.keys(top).length).toBeLessThanOrEqual(2);

    const plain = (await (
      await postJson(`${test.url}/v1/completions`, { model: "stories260K", prompt: "Once", max_tokens: 4 })
    ).json()) as Json;
    expect(plain.choices[0].logprobs).toBeNull();
  });
});
