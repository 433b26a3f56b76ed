/**
 * Wires a ThreadTuner (thread-tuner.ts) to a runner's engine and sequence pool: load readings,
 * re-calibration on a pooled sequence, the cache, and the served trial's counts.
 */
import { availableParallelism } from "node:os";
import type { Llama, LlamaContextSequence } from "node-llama-cpp";
import { systemTime } from "../../core/index.js";
import type { ThreadChoice } from "../../gpu/index.js";
import { readProcLoad } from "./load-check.js";
import {
  chooseThreads,
  servedTrialCounts,
  type ChooseThreadsOptions,
  type ThreadDecision,
} from "./thread-calibration.js";
import { deleteCacheEntry, updateCacheChoice } from "./thread-choice-cache.js";
import { ThreadTuner, watchLoad } from "./thread-tuner.js";

export interface HostThreadTunerOptions {
  llama: Llama;
  decision: ThreadDecision;
  calibration: ChooseThreadsOptions;
  /** Generations in flight now. */
  inFlight: () => number;
  /** Whether decodes run on the batch count now (prompt chunks, several sequences; ModelHost). */
  isOnBatchCount: () => boolean;
  /** Lends a free sequence for a re-calibration, holding acquire() until `giveBack`. */
  borrowSequence: () => LlamaContextSequence;
  giveBack: (sequence: LlamaContextSequence) => void;
  /** A choice replaced the old one (the plan report shows it). */
  onChoice: (choice: ThreadChoice) => void;
}

export function createHostThreadTuner(options: HostThreadTunerOptions): ThreadTuner {
  const { llama, calibration } = options;
  const tuner: ThreadTuner = new ThreadTuner({
    time: systemTime,
    decision: options.decision,
    apply: (choice) => {
      options.onChoice(choice);
      if (!options.isOnBatchCount()) llama.maxThreads = choice.threads;
    },
    setDecodeThreads: (threads) => {
      if (!options.isOnBatchCount()) llama.maxThreads = threads;
    },
    isIdle: () => options.inFlight() === 0,
    checkLoad: watchLoad(calibration.loadProbe ?? readProcLoad, options.inFlight),
    recalibrate: async () => {
      const sequence = options.borrowSequence();
      try {
        return await chooseThreads({
          ...calibration,
          sequence,
          ignoreCache: true,
          inFlight: () => options.inFlight() - 1,
        });
      } finally {
        // The measurement leaves the last candidate's count: back to the current one (a new choice is applied after).
        llama.maxThreads = tuner.decodeThreads;
        options.giveBack(sequence);
      }
    },
    forget: (cache) => deleteCacheEntry(cache.path, cache.key),
    save: async (decision) => {
      if (decision.cache !== undefined)
        await updateCacheChoice(decision.cache.path, decision.cache.key, decision.choice);
    },
    trialCounts:
      calibration.requested > 0
        ? undefined
        : servedTrialCounts(availableParallelism(), calibration.candidates),
    log: calibration.log,
  });
  return tuner;
}
