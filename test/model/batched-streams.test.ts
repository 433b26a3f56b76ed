/**
 * Four concurrent greedy streams through the server (--parallel 4, one batch per step: ADR 0030)
 * give each the same text as when it runs alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sseData, startModelServer, storyPrompts, type ModelTestServer } from "./helpers.js";

const prompts = storyPrompts;
const maxTokens = 48;

async function stream(url: string, prompt: string): Promise<string> {
  const response = await postJson(`${url}/v1/completions`, {
    model: "stories260K",
    prompt,
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
  });
  expect(response.status).toBe(200);
  const payloads = sseData(await response.text());
  expect(payloads.at(-1)).toBe("[DONE]");
  return payloads
    .slice(0, -1)
    .map((payload) => (JSON.parse(payload) as { choices: { text: string }[] }).choices[0]?.text ?? "")
    .join("");
}

describe("four concurrent greedy streams (real engine, --parallel 4)", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    test = await startModelServer({ parallel: "4" });
  });
  afterAll(async () => test?.dispose());

  it("give the same text as each alone", async () => {
    const alone: string[] = [];
    for (const prompt of prompts) alone.push(await stream(test.url, prompt));
    for (const text of alone) expect(text.length).toBeGreaterThan(20);
    const together = await Promise.all(prompts.map((prompt) => stream(test.url, prompt)));
    expect(together).toEqual(alone);
    // Again, with the sequences' caches warm (a different prefill path).
    expect(await Promise.all(prompts.map((prompt) => stream(test.url, prompt)))).toEqual(alone);
  });
});
