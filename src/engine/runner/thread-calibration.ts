/**
 * Threads by measurement (docs/decisions/0011). Two counts: decode (single-token batches, the
 * streaming loop) and batch (prompt chunks), which scale differently. With --threads auto the
 * runner measures both at a model's first load — each candidate in ABBA order, its best rate
 * kept — and takes the fewest threads within 5 % of the fastest; the answer is cached per model
 * file and machine for a day. On a 1-core machine nothing is measured.
 *
 * It measures on a sequence of the serving context itself (created with `threads: {ideal: max}`)
 * and switches counts through `llama.maxThreads`, which node-llama-cpp's thread splitter applies
 * at every llama_decode (the addon sets n_threads and n_threads_batch together): no extra
 * contexts, so nothing is left resident by calibration, and ModelHost can use the batch count
 * during prefill and the decode count while streaming.
 */
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { maxOtherLoadCores, otherLoadCores, readCpuSnapshot } from "./calibration-load.js";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import type { Llama, LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";
import { systemTime } from "../../core/index.js";
import type { ThreadChoice, ThreadSample } from "../../gpu/index.js";

/** More threads must beat fewer by this factor to be chosen: fewer threads leave cores to the server and clients. */
const minimumGain = 1.05;
const decodeTokensPerSample = 8;
const prefillTokensPerSample = 64;
/** One sample stops after this long even with fewer tokens (big models, slow counts). */
const sampleBudgetMs = 600;
/** A model slower than this per token at the first count is not calibrated: the rule applies. */
const slowestCalibratedTokenMs = 1_000;
const cacheFileName = "threads.json";
/** Load on a machine changes: a day-old answer is measured again at the next load. */
const cacheMaxAgeMs = 24 * 3_600_000;
const cacheVersion = 2;

/** The rule when no measurement is possible: one core for everything else, at most 8 threads. */
export function ruleThreads(cores: number): number {
  return Math.max(1, Math.min(8, cores - 1));
}

/**
 * Counts worth measuring, for decoding and for prompt chunks alike: 1, half the cores, all but
 * one, all (at most 16). Which wins depends on the machine and on what else runs on it: on the
 * 2-vCPU machine, 2 threads measured 1.2× faster than 1 when the VM was quiet and up to 5×
 * slower when other processes shared it (ggml's threads meet at a barrier after every
 * operation, so a core taken by anything else stalls them all). So it is measured, not assumed.
 */
export function threadCandidates(cores: number): number[] {
  return uniqueSorted([1, Math.floor(cores / 2), cores - 1, cores].map((count) => Math.min(16, count)));
}

/** The fewest threads whose best rate is within `minimumGain` of the fastest. */
export function pickThreads(samples: readonly ThreadSample[]): number {
  const fastest = Math.max(...samples.map((sample) => sample.tokensPerSecond));
  const sorted = [...samples].sort((a, b) => a.threads - b.threads);
  return (sorted.find((sample) => sample.tokensPerSecond * minimumGain >= fastest) ?? sorted[0]!).threads;
}

export interface ChooseThreadsOptions {
  llama: Llama;
  /** The serving context, created with `threads: {ideal: max of all candidates, min: 1}`, with a free sequence. */
  context: LlamaContext;
  /** --threads; 0 = auto. */
  requested: number;
  modelPath: string;
  /** What the engine runs on, part of the cache key: "prebuilt-cpu", "localBuild-cuda". */
  engineKey: string;
  cacheDirectory: string | undefined;
  /** Decode counts to measure; default threadCandidates(cores). Benchmarks and tests widen it. */
  candidates?: readonly number[] | undefined;
  log: (level: "debug" | "info" | "warn", message: string) => void;
  /** Other processes' CPU use above which the result is not cached (calibration-load.ts). */
  loadLimitCores?: number | undefined;
}

/** The most threads a context may be asked for: the bound `llama.maxThreads` starts at. */
export function maxThreadsFor(requested: number, candidates: readonly number[] | undefined): number {
  return requested > 0 ? requested : Math.max(...(candidates ?? threadCandidates(availableParallelism())));
}

export async function chooseThreads(options: ChooseThreadsOptions): Promise<ThreadChoice> {
  const cores = availableParallelism();
  if (options.requested > 0) {
    return {
      threads: options.requested,
      batchThreads: options.requested,
      source: "flag",
      samples: [],
      batchSamples: [],
      detail: `--threads ${options.requested}`,
    };
  }
  const candidates = uniqueSorted(options.candidates ?? threadCandidates(cores));
  if (candidates.length === 1) {
    return {
      threads: candidates[0]!,
      batchThreads: candidates[0]!,
      source: "rule",
      samples: [],
      batchSamples: [],
      detail: `${cores} core: nothing to compare`,
    };
  }
  const key = `${await cacheKey(options, cores)}|${candidates.join(",")}`;
  const cachePath =
    options.cacheDirectory === undefined ? undefined : join(options.cacheDirectory, cacheFileName);
  const cached = cachePath === undefined ? undefined : (await readCache(cachePath)).entries[key];
  if (cached !== undefined && systemTime.wallNow() - Date.parse(cached.measuredAt) < cacheMaxAgeMs) {
    return {
      ...cached.choice,
      source: "cached",
      detail: `measured ${cached.measuredAt} on this machine for this model file: ${cached.choice.detail}`,
    };
  }
  const started = systemTime.monotonicNow();
  const cpuBefore = readCpuSnapshot();
  const sequence = options.context.getSequence();
  try {
    const decode = await calibrate(candidates, (threads) =>
      measureDecodeRate(options.llama, sequence, threads),
    );
    if (decode === "too-slow") {
      const threads = ruleThreads(cores);
      return {
        threads,
        batchThreads: threads,
        source: "rule",
        samples: [],
        batchSamples: [],
        detail: `decoding takes over ${slowestCalibratedTokenMs} ms per token: no calibration, cores − 1 = ${threads}`,
      };
    }
    const batch = await calibrate(candidates, (threads) =>
      measurePrefillRate(options.llama, sequence, threads),
    );
    const batchSamples = batch === "too-slow" ? [] : batch;
    const threads = pickThreads(decode);
    const batchThreads = batchSamples.length === 0 ? threads : pickThreads(batchSamples);
    const describe = (samples: readonly ThreadSample[]): string =>
      samples.map((sample) => `${sample.threads}T ${sample.tokensPerSecond} tok/s`).join(", ");
    const cpuAfter = readCpuSnapshot();
    const otherLoad =
      cpuBefore === undefined || cpuAfter === undefined ? 0 : otherLoadCores(cpuBefore, cpuAfter);
    const isLoaded = otherLoad > (options.loadLimitCores ?? maxOtherLoadCores);
    const detail = `decode ${threads} (${describe(decode)}); prompt ${batchThreads}${batchSamples.length === 0 ? "" : ` (${describe(batchSamples)})`}; calibrated in ${Math.round(systemTime.monotonicNow() - started)} ms${isLoaded ? `; not cached: other processes used ${otherLoad.toFixed(2)} cores meanwhile` : ""}`;
    const choice: ThreadChoice = {
      threads,
      batchThreads,
      source: "calibrated",
      samples: decode,
      batchSamples,
      detail,
    };
    options.log("info", `Threads for ${options.modelPath}: ${detail}`);
    // A measurement taken under visible load is used for this load only (issue #17, item 2).
    if (cachePath !== undefined && !isLoaded) {
      await writeCacheEntry(cachePath, key, {
        choice,
        measuredAt: new Date(systemTime.wallNow()).toISOString(),
      }).catch((error: unknown) => {
        options.log(
          "warn",
          `Could not save the thread calibration to ${cachePath}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    }
    return choice;
  } finally {
    // Gives the slot back, its KV range empty, to the serving pool.
    await sequence.dispose();
  }
}

/** Best rate per candidate over an ABBA pass; "too-slow" when the first sample is. */
async function calibrate(
  candidates: readonly number[],
  measure: (threads: number) => Promise<number | undefined>,
): Promise<ThreadSample[] | "too-slow"> {
  const best = new Map<number, number>();
  // ABBA: a change of load on the machine during calibration hits every count alike.
  for (const threads of [...candidates, ...[...candidates].reverse()]) {
    const rate = await measure(threads);
    if (rate === undefined) return "too-slow";
    if (best.size === 0 && 1000 / rate > slowestCalibratedTokenMs) return "too-slow";
    best.set(threads, Math.max(best.get(threads) ?? 0, rate));
  }
  return candidates.map((threads) => ({
    threads,
    tokensPerSecond: Math.round(best.get(threads)! * 10) / 10,
  }));
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
async function measureDecodeRate(
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
async function measurePrefillRate(
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

interface CacheEntry {
  choice: ThreadChoice;
  measuredAt: string;
}

interface CacheFile {
  version: number;
  entries: Record<string, CacheEntry>;
}

function uniqueSorted(counts: readonly number[]): number[] {
  return [...new Set(counts.filter((count) => count >= 1))].sort((a, b) => a - b);
}

async function cacheKey(options: ChooseThreadsOptions, cores: number): Promise<string> {
  const file = await stat(options.modelPath);
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${options.modelPath}|${file.size}|${Math.round(file.mtimeMs)}|${cpu}|${cores} cores|${options.engineKey}`;
}

async function readCache(path: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<CacheFile>;
    if (parsed.version === cacheVersion && parsed.entries !== null && typeof parsed.entries === "object")
      return { version: cacheVersion, entries: parsed.entries };
  } catch {
    // Missing or unreadable: start over.
  }
  return { version: cacheVersion, entries: {} };
}

async function writeCacheEntry(path: string, key: string, entry: CacheEntry): Promise<void> {
  const cache = await readCache(path);
  cache.entries[key] = entry;
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  await writeFile(temporaryPath, JSON.stringify(cache, null, 2));
  await rename(temporaryPath, path);
}
