/** Scheduler options for the scheduler's own tests: a FakeEngine, names resolved to /models/<name>.gguf, generous limits, no memory estimate. */
import { silentLogger, type EventBus, type FakeTime, type TimePort } from "../core/index.js";
import type { FakeEngine } from "../engine/index.js";
import { emptyMemoryEstimate } from "./memory-budget.js";
import type { SchedulerOptions } from "./scheduler-options.js";

export function testQueueOptions(
  parts: { engine: FakeEngine; events: EventBus; time: TimePort },
  overrides: Partial<SchedulerOptions> = {},
): SchedulerOptions {
  return {
    ...parts,
    models: { resolve: async (name) => ({ name, path: `/models/${name}.gguf` }) },
    logger: silentLogger,
    contextTokens: 4096,
    parallel: 1,
    threads: 1,
    gpu: "cpu",
    loadTimeoutMs: 1000,
    maxLoadedModels: 2,
    maxQueued: 32,
    maxQueuedPerModel: 32,
    queueTimeoutMs: 5000,
    keepAliveMs: 60_000,
    queuePolicy: "priority",
    agingStepMs: 30_000,
    isPreemptionEnabled: true,
    memoryBudgetBytes: 1024 ** 3,
    pinnedModels: [],
    estimateMemory: () => emptyMemoryEstimate,
    ...overrides,
  };
}

/**
 * Advances fake time until `promise` settles, then hands back its result or error: how a
 * scheduler test waits for work driven by timers. Timers fire at their exact due times whatever
 * the step; the step only bounds how far time runs past the moment the promise settled.
 */
export async function settle<T>(
  time: FakeTime,
  promise: Promise<T>,
  options: { stepMs?: number; maxMs?: number } = {},
): Promise<T> {
  let isSettled = false;
  const watched = promise.finally(() => {
    isSettled = true;
  });
  // Rejections are re-thrown by the `return` below; this only stops an unhandled-rejection report meanwhile.
  watched.catch(() => {});
  await time.advanceUntil(() => isSettled, { stepMs: options.stepMs ?? 1, maxMs: options.maxMs ?? 120_000 });
  return watched;
}
