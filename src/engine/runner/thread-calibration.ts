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
 *
 * docs/decisions/0032: nothing measured while the machine is busy is cached (the rule stands in
 * and thread-tuner.ts measures again at a quiet moment), machines with ≤ 2 cores leave a core to
 * the serving path when decoding, and a choice that serves well below its measured rate is
 * dropped and measured again.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Llama, LlamaContext, LlamaContextSequence } from "node-llama-cpp";
import { systemTime } from "../../core/index.js";
import type { ThreadChoice, ThreadSample } from "../../gpu/index.js";
import {
  calibrate,
  measureDecodeRate,
  measurePrefillRate,
  slowestCalibratedTokenMs,
} from "./thread-measure.js";
import { assessLoad, assessLoadNow, readProcLoad, type LoadProbe } from "./load-check.js";
import { cacheFileName, cacheKey, readCacheEntry, writeCacheEntry } from "./thread-choice-cache.js";

/** More threads must beat fewer by this factor to be chosen: fewer threads leave cores to the server and clients. */
const minimumGain = 1.05;
/** Load on a machine changes: a day-old answer is measured again at the next load. */
const cacheMaxAgeMs = 24 * 3_600_000;

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
  /** A sequence to measure on (a re-calibration while serving); default: a new one of the context, disposed after. */
  sequence?: LlamaContextSequence | undefined;
  /** --threads; 0 = auto. */
  requested: number;
  modelPath: string;
  /** What the engine runs on, part of the cache key: "prebuilt-cpu", "localBuild-cuda". */
  engineKey: string;
  cacheDirectory: string | undefined;
  /** Counts to measure; default decode: decodeCandidates(cores), prompt: threadCandidates(cores). Benchmarks and tests set both. */
  candidates?: readonly number[] | undefined;
  /** Reads the machine's load before and after measuring (load-check.ts); default /proc. */
  loadProbe?: LoadProbe | undefined;
  /** Generations in flight in this runner now. */
  inFlight?: (() => number) | undefined;
  /** Measure even when a cached answer exists (a re-check while serving). */
  ignoreCache?: boolean | undefined;
  log: (level: "debug" | "info" | "warn", message: string) => void;
}

/** What chooseThreads decided, and whether the runner should measure again at a quiet moment. */
export interface ThreadDecision {
  choice: ThreadChoice;
  /** The rule stands in because the machine was busy: calibrate later (thread-tuner.ts). */
  isProvisional: boolean;
  /** The cache file and key of this choice, to drop it when it looks wrong while serving. */
  cache: { path: string; key: string } | undefined;
}

/**
 * Decode counts worth measuring. On machines with 2 cores or fewer one core is left to the
 * serving path (main process, IPC, client): through HTTP, 2 decode threads served at 0.54–0.62×
 * llama-server where 1 served at 0.78–0.82× (issue #17), though inside the runner 2 measured
 * faster. Prompt chunks still use every core (threadCandidates). docs/decisions/0032.
 */
export function decodeCandidates(cores: number): number[] {
  return cores <= 2 ? [Math.max(1, cores - 1)] : threadCandidates(cores);
}

/**
 * Decode counts a served trial compares (served-trial.ts): on machines with 2 cores or fewer, the
 * headroom count and all cores — whether the second core pays through the serving path is
 * measured on what users get. None where the candidates are given (benchmarks, tests) or on
 * larger machines, whose calibration already compares several counts.
 */
export function servedTrialCounts(
  cores: number,
  explicit: readonly number[] | undefined,
): number[] | undefined {
  return explicit === undefined && cores === 2 ? [1, 2] : undefined;
}

/** The most threads a context may be asked for: the bound `llama.maxThreads` starts at. */
export function maxThreadsFor(requested: number, candidates: readonly number[] | undefined): number {
  return requested > 0 ? requested : Math.max(...(candidates ?? threadCandidates(availableParallelism())));
}

export async function chooseThreads(options: ChooseThreadsOptions): Promise<ThreadDecision> {
  const cores = availableParallelism();
  const settled = (choice: ThreadChoice): ThreadDecision => ({
    choice,
    isProvisional: false,
    cache: undefined,
  });
  if (options.requested > 0) {
    return settled({
      threads: options.requested,
      batchThreads: options.requested,
      source: "flag",
      samples: [],
      batchSamples: [],
      detail: `--threads ${options.requested}`,
    });
  }
  const batchCandidates = uniqueSorted(options.candidates ?? threadCandidates(cores));
  const decodeCounts = uniqueSorted(options.candidates ?? decodeCandidates(cores));
  if (batchCandidates.length === 1) {
    return settled({
      threads: batchCandidates[0]!,
      batchThreads: batchCandidates[0]!,
      source: "rule",
      samples: [],
      batchSamples: [],
      detail: `${cores} core: nothing to compare`,
    });
  }
  const key = await cacheKey({ ...options, cores, candidates: batchCandidates });
  const cachePath =
    options.cacheDirectory === undefined ? undefined : join(options.cacheDirectory, cacheFileName);
  const cache = cachePath === undefined ? undefined : { path: cachePath, key };
  const cached =
    cachePath === undefined || options.ignoreCache === true
      ? undefined
      : await readCacheEntry(cachePath, key);
  if (cached !== undefined && systemTime.wallNow() - Date.parse(cached.measuredAt) < cacheMaxAgeMs) {
    return {
      choice: {
        ...cached.choice,
        source: "cached",
        detail: `measured ${cached.measuredAt} on this machine for this model file: ${cached.choice.detail}`,
      },
      isProvisional: false,
      cache,
    };
  }
  const probe = options.loadProbe ?? readProcLoad;
  const inFlight = (): number => options.inFlight?.() ?? 0;
  const busyRule = (reason: string): ThreadDecision => {
    const threads = ruleThreads(cores);
    options.log(
      "info",
      `Threads for ${options.modelPath}: the machine is busy (${reason}); the rule for now, measured later`,
    );
    return {
      choice: {
        threads,
        batchThreads: threads,
        source: "rule",
        samples: [],
        batchSamples: [],
        detail: `machine busy (${reason}): rule ${threads} thread(s) until a quiet moment`,
      },
      isProvisional: true,
      cache,
    };
  };
  const { verdict: first, reading: before } = await assessLoadNow({
    probe,
    cores,
    inFlight,
    sleep: (delayMs) => systemTime.sleep(delayMs),
  });
  if (!first.isQuiet) return busyRule(first.reason);
  const started = systemTime.monotonicNow();
  const sequence = options.sequence ?? options.context.getSequence();
  try {
    const decode = await calibrate(decodeCounts, (threads) =>
      measureDecodeRate(options.llama, sequence, threads),
    );
    if (decode === "too-slow") {
      const threads = ruleThreads(cores);
      return settled({
        threads,
        batchThreads: threads,
        source: "rule",
        samples: [],
        batchSamples: [],
        detail: `decoding takes over ${slowestCalibratedTokenMs} ms per token: no calibration, cores − 1 = ${threads}`,
      });
    }
    // Prompt chunks nearly always gain from every core; a pass that says otherwise is measured again.
    const batch = await calibrate(
      batchCandidates,
      (threads) => measurePrefillRate(options.llama, sequence, threads),
      (samples) => pickThreads(samples) === Math.max(...batchCandidates),
    );
    const verdict = assessLoad({ before, after: probe(), cores, inFlight: inFlight() });
    if (!verdict.isQuiet) return busyRule(`while measuring: ${verdict.reason}`);
    const batchSamples = batch === "too-slow" ? [] : batch;
    const threads = pickThreads(decode);
    const batchThreads = batchSamples.length === 0 ? threads : pickThreads(batchSamples);
    const describe = (samples: readonly ThreadSample[]): string =>
      samples.map((sample) => `${sample.threads}T ${sample.tokensPerSecond} tok/s`).join(", ");
    const headroom =
      decodeCounts.length < batchCandidates.length ? ", one core left to the serving path" : "";
    const detail = `decode ${threads} (${describe(decode)}${headroom}); prompt ${batchThreads}${batchSamples.length === 0 ? "" : ` (${describe(batchSamples)})`}; calibrated in ${Math.round(systemTime.monotonicNow() - started)} ms`;
    const choice: ThreadChoice = {
      threads,
      batchThreads,
      source: "calibrated",
      samples: decode,
      batchSamples,
      detail,
    };
    options.log("info", `Threads for ${options.modelPath}: ${detail}`);
    if (cachePath !== undefined) {
      await writeCacheEntry(cachePath, key, {
        choice,
        measuredAt: new Date(systemTime.wallNow()).toISOString(),
        conditions: verdict.conditions,
      }).catch((error: unknown) => {
        options.log(
          "warn",
          `Could not save the thread calibration to ${cachePath}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    }
    return { choice, isProvisional: false, cache };
  } finally {
    // Gives the slot back, its KV range empty, to the serving pool.
    if (options.sequence === undefined) await sequence.dispose();
    else await sequence.clearHistory();
  }
}

function uniqueSorted(counts: readonly number[]): number[] {
  return [...new Set(counts.filter((count) => count >= 1))].sort((a, b) => a - b);
}
