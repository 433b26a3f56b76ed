/**
 * Verifying a draft on the real engine (stories260K, node-llama-cpp driven as the runner drives
 * it; ADR 0049): with the parallel-draft-samples patch the drafted positions of a greedy step are
 * sampled at once (several sampleToken calls in flight) and the text is the one the chained
 * samples give; under `auto`, free text drafts nothing until the lookup's predictions hold.
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GenerateRequest } from "../../src/core/index.js";
import { installSampleGate } from "../../src/engine/runner/sample-gate.js";
import { startSpeculation } from "../../src/engine/runner/speculation.js";
import { storiesPath } from "./helpers.js";
import { freePrompt, storyStart } from "./speculative.testing.js";

const greedy = { sampling: { temperature: 0 } } as GenerateRequest;
const maxTokens = 64;

describe("speculative verification samples (real engine, stories260K)", () => {
  let llama: Llama;
  let context: LlamaContext;
  /** sampleToken calls in flight now, and the most at once since the last reset. */
  const inFlight = { now: 0, most: 0 };

  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: storiesPath });
    context = await model.createContext({ contextSize: 1024, sequences: 2, threads: 1 });
    // As the runner does: a batch's first sample reads its logits before the others (ADR 0034).
    installSampleGate(context);
    const internal = context as unknown as { _ctx: Record<string | symbol, unknown> };
    internal._ctx = new Proxy(internal._ctx, {
      get(target, property) {
        const value = target[property];
        if (typeof value !== "function") return value;
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        if (property !== "sampleToken") return bound;
        return (...args: unknown[]) => {
          inFlight.now++;
          inFlight.most = Math.max(inFlight.most, inFlight.now);
          const result = bound(...args) as Promise<unknown>;
          return result.finally(() => inFlight.now--);
        };
      },
    });
  }, 60_000);
  afterAll(async () => {
    await llama?.dispose();
  });

  async function generate(
    prompt: string,
    options: { mode: "off" | "auto" | "input-lookup"; serial?: boolean },
  ): Promise<{ text: string; drafted: number; accepted: number; mostInFlight: number }> {
    const sequence = context.getSequence();
    try {
      (sequence as unknown as { rawrxdSerialDraftSamples: boolean }).rawrxdSerialDraftSamples =
        options.serial === true;
      const speculation =
        options.mode === "off"
          ? undefined
          : startSpeculation({ mode: options.mode, sequence, request: greedy, grammar: undefined });
      inFlight.most = 0;
      const out: Token[] = [];
      for await (const token of sequence.evaluate(context.model.tokenize(prompt), {
        temperature: 0,
        yieldEogToken: true,
      })) {
        out.push(token);
        if (out.length >= maxTokens) break;
      }
      const mostInFlight = inFlight.most;
      const counts = await speculation?.finish();
      return {
        text: context.model.detokenize(out),
        drafted: counts?.draftedTokens ?? 0,
        accepted: counts?.acceptedTokens ?? 0,
        mostInFlight,
      };
    } finally {
      void sequence.dispose();
    }
  }

  it("samples the drafted positions of a greedy step at once, with the same text as one after another", async () => {
    // A sentence repeated: the output continues it, and prompt lookup drafts it.
    const prompt = `${storyStart} ${storyStart} ${storyStart}`;
    const off = await generate(prompt, { mode: "off" });
    const serial = await generate(prompt, { mode: "input-lookup", serial: true });
    const parallel = await generate(prompt, { mode: "input-lookup" });
    expect(off.mostInFlight).toBe(1);
    expect(serial.drafted).toBeGreaterThan(0);
    expect(serial.mostInFlight).toBe(1);
    expect(parallel.mostInFlight).toBeGreaterThan(1);
    expect(serial.text).toBe(off.text);
    expect(parallel.text).toBe(off.text);
    expect(parallel.accepted).toBe(serial.accepted);
  });

  it("gives two sequences speculating at once in one context each its text alone", async () => {
    const prompts = [
      `${storyStart} ${storyStart} ${storyStart}`,
      `${freePrompt} ${freePrompt} ${freePrompt}`,
    ];
    const alone = [];
    for (const prompt of prompts) alone.push((await generate(prompt, { mode: "off" })).text);
    for (let round = 0; round < 3; round++) {
      const together = await Promise.all(prompts.map((prompt) => generate(prompt, { mode: "input-lookup" })));
      expect(together.map((result) => result.text)).toEqual(alone);
    }
  });

  it("keeps sampling one position after another for a sampled request", async () => {
    const sequence = context.getSequence();
    try {
      const speculation = startSpeculation({
        mode: "input-lookup",
        sequence,
        request: { sampling: { temperature: 0.8, seed: 7 } } as GenerateRequest,
        grammar: undefined,
      });
      inFlight.most = 0;
      let count = 0;
      for await (const _token of sequence.evaluate(
        context.model.tokenize(`${storyStart} ${storyStart} ${storyStart}`),
        { temperature: 0.8, seed: 7, yieldEogToken: true },
      )) {
        if (++count >= maxTokens) break;
      }
      const counts = await speculation.finish();
      expect(counts?.draftedTokens).toBeGreaterThan(0);
      expect(inFlight.most).toBe(1);
    } finally {
      void sequence.dispose();
    }
  });

  it("under auto, drafts on free text only where the lookup's predictions held (none refused whole)", async () => {
    const off = await generate(freePrompt, { mode: "off" });
    const auto = await generate(freePrompt, { mode: "auto" });
    expect(auto.text).toBe(off.text);
    // Drafting starts only after a streak of right predictions: most drafted tokens are accepted.
    if (auto.drafted > 0) expect(auto.accepted / auto.drafted).toBeGreaterThanOrEqual(0.5);
  });
});
