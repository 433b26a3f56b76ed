/**
 * Prompt cache: a prompt that extends what the model's sequence already holds evaluates only the
 * new tokens, says so in the usage (OpenAI cached_tokens, Ollama prompt_eval_count), and greedy
 * output is the same as when the whole prompt is evaluated from scratch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const story =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball under a tree. " +
  "She ran to the ball and picked it up. Her mom smiled and said they could play together before lunch.";

describe("prompt cache on the real engine", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    // One sequence: every request lands on it, so what it holds is exactly the previous request.
    test = await startModelServer({ parallel: "1" });
  });
  afterAll(async () => test.dispose());

  async function complete(
    prompt: string,
  ): Promise<{ text: string; promptTokens: number; cachedTokens: number }> {
    const response = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt,
      max_tokens: 32,
      temperature: 0,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    return {
      text: body.choices[0].text,
      promptTokens: body.usage.prompt_tokens,
      cachedTokens: body.usage.prompt_tokens_details.cached_tokens,
    };
  }

  it("greedy output is identical with and without reuse, and cached_tokens says how much was reused", async () => {
    const first = await complete(story);
    const nextTurn = `${story}${first.text} Then`;

    const reused = await complete(nextTurn);
    // Everything the sequence held that the new prompt starts with: the old prompt and its output.
    expect(reused.cachedTokens).toBeGreaterThan(first.promptTokens);
    expect(reused.cachedTokens).toBeLessThan(reused.promptTokens);

    // Something unrelated takes the sequence; the same prompt again is evaluated from scratch (BOS at most is shared).
    await complete("Zebras never sleep in the cold.");
    const fresh = await complete(nextTurn);
    expect(fresh.cachedTokens).toBeLessThanOrEqual(1);
    expect(fresh.promptTokens).toBe(reused.promptTokens);
    expect(fresh.text).toBe(reused.text);
  });

  it("an identical prompt reuses all but its last token", async () => {
    await complete(story);
    const again = await complete(story);
    expect(again.cachedTokens).toBe(again.promptTokens - 1);
  });

  it("Ollama's prompt_eval_count counts only the evaluated (uncached) prompt tokens (no template: the same tokens as /v1/completions)", async () => {
    const generate = async (prompt: string): Promise<Json> =>
      (
        await postJson(`${test.url}/api/generate`, {
          model: "stories260K",
          prompt,
          stream: false,
          options: { num_predict: 8, temperature: 0 },
        })
      ).json();
    const storyTokens = (await complete(story)).promptTokens;
    // The sequence holds the story (and 32 tokens after it): only the last prompt token is evaluated.
    const first = await generate(story);
    expect(first.prompt_eval_count).toBe(1);
    const nextTurn = `${story}${first.response} Then`;
    const second = await generate(nextTurn);
    const nextTurnTokens = (await complete(nextTurn)).promptTokens;
    expect(second.prompt_eval_count).toBeGreaterThan(0);
    expect(second.prompt_eval_count).toBeLessThanOrEqual(nextTurnTokens - storyTokens + 1);
  });
});
