/**
 * Four concurrent greedy streams on one context keep their own tokens (ADR 0034). Without the
 * sample gate, node-llama-cpp 3.21.1's parallel samples race on llama.cpp's lazy output
 * reorder and two streams exchange a token now and then (`npm run bench:sample-race`: 6–15 of
 * 40 rounds here; once in CI), so the check runs many rounds.
 */
import {
  getLlama,
  LlamaLogLevel,
  type LlamaContext,
  type LlamaContextSequence,
  type Token,
} from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installSampleGate } from "../../src/engine/runner/sample-gate.js";
import { storiesPath, storyPrompts } from "./helpers.js";

const prompts = storyPrompts;
const tokens = 64;
const rounds = 30;

describe("sample gate (real engine, stories260K, four sequences)", () => {
  let llama: Awaited<ReturnType<typeof getLlama>>;
  let context: LlamaContext;
  let sequences: LlamaContextSequence[];

  async function generate(indexes: number[]): Promise<string[]> {
    return Promise.all(
      indexes.map(async (index) => {
        const sequence = sequences[index]!;
        await sequence.clearHistory();
        const out: Token[] = [];
        const prompt = context.model.tokenize(prompts[index]!);
        for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
          out.push(token);
          if (out.length >= tokens) break;
        }
        return context.model.detokenize(out);
      }),
    );
  }

  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: storiesPath });
    context = await model.createContext({ contextSize: 1024, sequences: 4, threads: 1 });
    installSampleGate(context);
    sequences = prompts.map(() => context.getSequence());
  });
  afterAll(async () => llama?.dispose());

  it(`gives each of four streams its own text in ${rounds} rounds of ${tokens} tokens`, async () => {
    const alone: string[] = [];
    for (const index of prompts.keys()) alone.push(...(await generate([index])));
    expect(new Set(alone).size).toBe(prompts.length);
    const wrong: string[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const together = await generate([0, 1, 2, 3]);
      together.forEach((text, index) => {
        if (text !== alone[index]) wrong.push(`round ${round}, stream ${index}: ${JSON.stringify(text)}`);
      });
    }
    expect(wrong).toEqual([]);
  });
});
