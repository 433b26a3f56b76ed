/**
 * Reusing the cached prompt prefix must not change sampled output (issue #10, item 6): the same
 * request with the same seed and temperature gives the same text whether its prompt was
 * evaluated afresh (the first request after a load) or taken from the sequence's cache (every
 * repeat). Greedy parity is covered by greedy-parity.test.ts; this is sampling with a seed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";

let test: ModelTestServer;

beforeAll(async () => {
  // One sequence: every repeat lands on the sequence that holds the previous prompt.
  test = await startModelServer({ parallel: "1" });
});

afterAll(async () => {
  await test.dispose();
});

interface Completion {
  text: string;
  cachedTokens: number;
}

async function complete(body: Record<string, unknown>): Promise<Completion> {
  const response = await postJson(`${test.url}/v1/completions`, { model: "stories260K", ...body });
  expect(response.status).toBe(200);
  const json = (await response.json()) as {
    choices: { text: string }[];
    usage: { prompt_tokens_details: { cached_tokens: number } };
  };
  return { text: json.choices[0]!.text, cachedTokens: json.usage.prompt_tokens_details.cached_tokens };
}

async function chat(body: Record<string, unknown>): Promise<Completion> {
  const response = await postJson(`${test.url}/v1/chat/completions`, { model: "stories260K", ...body });
  expect(response.status).toBe(200);
  const json = (await response.json()) as {
    choices: { message: { content: string } }[];
    usage: { prompt_tokens_details: { cached_tokens: number } };
  };
  return {
    text: json.choices[0]!.message.content,
    cachedTokens: json.usage.prompt_tokens_details.cached_tokens,
  };
}

describe("seeded sampling with and without a cached prompt prefix", () => {
  it("the same request and seed give the same text, first after a cold cache and on every repeat", async () => {
    const story =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball in the tree. ";
    // Evaluating the prompt's last token in one batch with the rest or alone gives logits that
    // differ by ~1e-4 on the CPU backend for some prompt lengths: enough to change a sampled
    // token for a few seeds in ten (seeds 3 and 4, 11, 12, 20 here before the fix).
    const sampling = { temperature: 1, top_k: 40, top_p: 0.95 };
    const cases = [
      ...range(20).map((seed) => ({
        kind: "completion" as const,
        body: { prompt: "Tell me a story about a cat.", ...sampling, seed },
      })),
      ...range(20).map((seed) => ({
        kind: "completion" as const,
        body: { prompt: "Lily and Ben went to the park. They saw a big dog.", ...sampling, seed },
      })),
      ...range(6).map((seed) => ({
        kind: "chat" as const,
        body: { messages: [{ role: "user", content: "Tell me a story" }], ...sampling, seed },
      })),
      // Longer than one prefill chunk (128 tokens): evaluated in chunks when fresh.
      ...range(4).map((seed) => ({
        kind: "completion" as const,
        body: { prompt: story.repeat(4), ...sampling, seed },
      })),
    ];
    const differences: string[] = [];
    for (const { kind, body } of cases) {
      const send = kind === "chat" ? chat : complete;
      const request = { ...body, max_tokens: 32 };
      // A raw prompt (no BOS token) first: the sequence's cache then shares nothing with this
      // request, which is evaluated from its first token, as the first request after a load is.
      const warmUp = await postJson(`${test.url}/api/generate`, {
        model: "stories260K",
        prompt: `Ben ${body.seed}`,
        raw: true,
        stream: false,
        options: { num_predict: 2 },
      });
      expect(warmUp.status).toBe(200);
      const fresh = await send(request);
      const repeat = await send(request);
      expect(fresh.cachedTokens).toBe(0);
      expect(repeat.cachedTokens).toBeGreaterThan(0);
      expect(fresh.text.length).toBeGreaterThan(0);
      if (repeat.text !== fresh.text)
        differences.push(
          `${kind} seed ${body.seed}: ${JSON.stringify(fresh.text)} then ${JSON.stringify(repeat.text)}`,
        );
    }
    expect(differences).toEqual([]);
  });
});

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index + 1);
}
