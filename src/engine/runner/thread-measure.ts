/**
 * One thread-count measurement on a sequence of the serving context (docs/decisions/0011):
 * greedy single-token decoding and one prompt chunk, each candidate in ABBA order.
 */
import type { Llama, LlamaContextSequence, Token } from "node-llama-cpp";
import { systemTime } from "../../core/index.js";
import type { ThreadSample } from "../../gpu/index.js";

const decodeTokensPerSample = 8;
const prefillTokensPerSample = 64;
/** One sample stops after this long even with fewer tokens (big models, slow counts). */
const sampleBudgetMs = 600;
/** A model slower than this per token at the first count is not calibrated: the rule applies. */
export const slowestCalibratedTokenMs = 1_000;

/**
 * Best rate per candidate over an ABBA pass; "too-slow" when the first sample is. When `isSettled`
 * rejects the first pass's samples, a second pass runs and the best of both counts: a burst of
 * other work on the machine (the main process hashing a model file, a health round) can land on
 * both samples of one count in a pass, and measured 2 threads' prompt rate at 1 thread's (520 vs
 * 524 tok/s, against ~800 vs ~500 in the next loads).
 */
export async function calibrate(
  candidates: readonly number[],
  measure: (threads: number) => Promise<number | undefined>,
  isSettled: (samples: ThreadSample[]) => boolean = () => true,
): Promise<ThreadSample[] | "too-slow"> {
  const best = new Map<number, number>();
  const samples = (): ThreadSample[] =>
    candidates.map((threads) => ({ threads, tokensPerSecond: Math.round(best.get(threads)! * 10) / 10 }));
  for (let pass = 0; pass < 2; pass++) {
    // ABBA: a change of load on the machine during calibration hits every count alike.
    for (const threads of [...candidates, ...[...candidates].reverse()]) {
      const rate = await measure(threads);
      if (rate === undefined) return "too-slow";
      if (best.size === 0 && 1000 / rate > slowestCalibratedTokenMs) return "too-slow";
      best.set(threads, Math.max(best.get(threads) ?? 0, rate));
    }
    if (isSettled(samples())) break;
  }
  return samples();
}

async function useThreads(llama: Llama, threads: number): Promise<void> {
  // The splitter frees a decode's threads on the next macrotask: let it, then cap the next decodes.
  await systemTime.sleep(1);
  llama.maxThreads = threads;
}

function calibrationTokens(sequence: LlamaContextSequence, count: number): Token[] {
  const model = sequence.model;
  const sentence = model.tokenize("The quick brown fox jumps over the lazy dog near the quiet river bank. ");
  const tokens: Token[] = [];
  while (sentence.length > 0 && tokens.length < count) tokens.push(...sentence);
  return tokens.slice(0, Math.min(count, Math.floor(sequence.contextSize / 2)));
}

/** Single-stream greedy decode rate at `threads`, after the prompt's first token. */
export async function measureDecodeRate(
  llama: Llama,
  sequence: LlamaContextSequence,
  threads: number,
): Promise<number | undefined> {
  await sequence.clearHistory();
  const tokens = calibrationTokens(sequence, 8);
  if (tokens.length === 0) return undefined;
  await useThreads(llama, threads);
  let firstAt: number | undefined;
  let lastAt = 0;
  let decoded = 0;
  for await (const _token of sequence.evaluate(tokens, { temperature: 0, yieldEogToken: true })) {
    const now = systemTime.monotonicNow();
    if (firstAt === undefined) {
      firstAt = now;
      continue;
    }
    decoded += 1;
    lastAt = now;
    if (decoded >= decodeTokensPerSample || now - firstAt > sampleBudgetMs) break;
  }
  return firstAt === undefined || decoded === 0 ? undefined : (decoded * 1000) / (lastAt - firstAt);
}

/** Prompt evaluation rate at `threads`: one batch of up to 64 tokens. */
export async function measurePrefillRate(
  llama: Llama,
  sequence: LlamaContextSequence,
  threads: number,
): Promise<number | undefined> {
  await sequence.clearHistory();
  const tokens = calibrationTokens(sequence, prefillTokensPerSample);
  if (tokens.length < 8) return undefined;
  await useThreads(llama, threads);
  const started = systemTime.monotonicNow();
  await sequence.evaluateWithoutGeneratingNewTokens(tokens);
  return (tokens.length * 1000) / (systemTime.monotonicNow() - started);
}
