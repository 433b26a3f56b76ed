/**
 * Variant 1: node-llama-cpp in this process, the way a user of the library would call it.
 * Loads, measures and releases everything within one block, so no threads outlive it.
 */
import { LlamaCompletion, type LlamaContextSequence } from "node-llama-cpp";
import { openDirectContext } from "../lib/direct-engine.js";
import { processCpuMs } from "../lib/machine.js";
import {
  decodeRate,
  sumTokens,
  type BlockPlan,
  type BlockResult,
  type GenerationSample,
} from "../lib/samples.js";
import { systemTime } from "../../src/core/index.js";

export async function runDirectBlock(plan: BlockPlan): Promise<BlockResult> {
  const setupStart = systemTime.monotonicNow();
  const { llama, context } = await openDirectContext({
    modelPath: plan.modelPath,
    threads: plan.threads,
    contextSize: plan.contextSize,
    sequences: 1,
  });
  try {
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    const setupMs = systemTime.monotonicNow() - setupStart;
    const generate = (prompt: string, rep: number): Promise<GenerationSample> =>
      measureCompletion({ completion, sequence, prompt, rep, block: plan.block, maxTokens: plan.maxTokens });
    const warmup = await generate(plan.warmupPrompt, -1);
    const samples: GenerationSample[] = [];
    const cpuBefore = processCpuMs();
    for (const { rep, prompt } of plan.prompts) samples.push(await generate(prompt, rep));
    const cpu = { benchProcessMs: processCpuMs() - cpuBefore, completionTokens: sumTokens(samples) };
    return { variant: "direct", block: plan.block, setupMs, warmup, samples, cpu };
  } finally {
    // Disposes the model, context and sequence too; nothing is generating at this point.
    await llama.dispose();
  }
}

interface MeasureOptions {
  completion: LlamaCompletion;
  sequence: LlamaContextSequence;
  prompt: string;
  rep: number;
  block: number;
  maxTokens: number;
}

/** One greedy completion, timed at each token; the KV cache is cleared first. */
export async function measureCompletion(options: MeasureOptions): Promise<GenerationSample> {
  // Every rep evaluates its whole prompt: nothing of the previous rep stays in the KV cache.
  await options.sequence.clearHistory();
  let firstTokenAt: number | undefined;
  let lastTokenAt = Number.NaN;
  let completionTokens = 0;
  let text = "";
  const start = systemTime.monotonicNow();
  await options.completion.generateCompletionWithMeta(options.prompt, {
    maxTokens: options.maxTokens,
    temperature: 0,
    onToken: (tokens) => {
      const now = systemTime.monotonicNow();
      firstTokenAt ??= now;
      lastTokenAt = now;
      completionTokens += tokens.length;
    },
    onTextChunk: (chunk) => {
      text += chunk;
    },
  });
  const end = systemTime.monotonicNow();
  const firstToLastMs = firstTokenAt === undefined ? Number.NaN : lastTokenAt - firstTokenAt;
  return {
    variant: "direct",
    block: options.block,
    rep: options.rep,
    prompt: options.prompt,
    timeToFirstTokenMs: firstTokenAt === undefined ? Number.NaN : firstTokenAt - start,
    firstToLastMs,
    totalMs: end - start,
    completionTokens,
    decodeTokensPerSecond: decodeRate(completionTokens, firstToLastMs),
    text,
  };
}
