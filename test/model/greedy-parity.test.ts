/**
 * Greedy decoding through the server must give exactly what llama.cpp gives for the same model,
 * prompt and token budget: node-llama-cpp's sequence fed BOS plus the prompt tokenized as
 * llama.cpp's servers tokenize it (llama-server and Ollama: the tokenizer's space prefix kept),
 * which `npm run bench:peer` checks against llama-server itself.
 */
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sseData, startModelServer, storiesPath, type ModelTestServer } from "./helpers.js";

const prompt = "Once upon a time, there was a little";
const maxTokens = 48;

async function direct(): Promise<{ text: string; promptTokens: number }> {
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: LlamaLogLevel.error });
  try {
    const model = await llama.loadModel({ modelPath: storiesPath });
    const context = await model.createContext({ contextSize: 512, threads: 1 });
    const input = [model.tokens.bos!, ...model.tokenize(prompt)];
    const output: Token[] = [];
    for await (const token of context.getSequence().evaluate(input, { temperature: 0 })) {
      if (model.isEogToken(token)) break;
      output.push(token);
      if (output.length >= maxTokens) break;
    }
    // The prompt is the output's context, as llama.cpp's servers render it: a first token
    // "▁girl" is " girl".
    return { text: model.detokenize(output, false, input), promptTokens: input.length };
  } finally {
    await llama.dispose();
  }
}

describe("greedy parity with node-llama-cpp", () => {
  let test: ModelTestServer;
  let expected: string;
  let promptTokens: number;

  beforeAll(async () => {
    ({ text: expected, promptTokens } = await direct());
    test = await startModelServer();
  });
  afterAll(async () => test.dispose());

  it("produces readable text directly (sanity)", () => {
    expect(expected.length).toBeGreaterThan(40);
    expect(expected).toMatch(/[a-z]+ [a-z]+/);
  });

  it("/v1/completions non-streaming equals the direct output", async () => {
    const response = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt,
      max_tokens: maxTokens,
      temperature: 0,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      choices: { text: string; finish_reason: string }[];
      usage: { completion_tokens: number; prompt_tokens: number };
    };
    expect(body.choices[0]!.text).toBe(expected);
    // "Once" as "▁Once" (1 token), not node-llama-cpp's trimmed "On" "c" "e": the same prompt tokens.
    expect(body.usage.prompt_tokens).toBe(promptTokens);
    expect(body.choices[0]!.finish_reason).toBe("length");
    expect(body.usage.completion_tokens).toBe(maxTokens);
  });

  it("/v1/completions streamed over SSE equals the direct output", async () => {
    const response = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt,
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
    });
    const payloads = sseData(await response.text());
    expect(payloads.at(-1)).toBe("[DONE]");
    const text = payloads
      .slice(0, -1)
      .map((payload) => (JSON.parse(payload) as { choices: { text: string }[] }).choices[0]?.text ?? "")
      .join("");
    expect(text).toBe(expected);
  });

  it("/api/generate (no template: the prompt as plain text) streamed as NDJSON equals the direct output", async () => {
    const response = await postJson(`${test.url}/api/generate`, {
      model: "stories260K",
      prompt,
      options: { temperature: 0, num_predict: maxTokens, repeat_penalty: 1 },
    });
    const lines = (await response.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { response: string; done: boolean; eval_count?: number });
    expect(lines.at(-1)!.done).toBe(true);
    expect(lines.at(-1)!.eval_count).toBe(maxTokens);
    expect(lines.map((line) => line.response).join("")).toBe(expected);
  });
});
