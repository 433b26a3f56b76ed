/** ModelQueue options for the scheduler's own tests: a FakeEngine, names resolved to /models/<name>.gguf, generous limits. */
import { silentLogger, type Clock, type EventBus } from "../core/index.js";
import type { FakeEngine } from "../engine/index.js";
import type { ModelQueueOptions } from "./model-queue.js";

export function testQueueOptions(
  parts: { engine: FakeEngine; events: EventBus; clock: Clock },
  overrides: Partial<ModelQueueOptions> = {},
): ModelQueueOptions {
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
    ...overrides,
  };
}
