/** What the in-process scheduler is built from: its ports (engine, models, events, time, logger) and its limits. */
import type { EventBus, Logger, TimePort } from "../core/index.js";
import type { GpuChoice, InferenceEngine } from "../engine/index.js";
import type { GgufInfo } from "../gguf/index.js";
import type { MemoryEstimate } from "./memory-budget.js";
import type { QueuePolicyName } from "./policies.js";

export interface ResolvedModel {
  name: string;
  path: string;
  /** The validated GGUF header, for the memory estimate. */
  info?: GgufInfo | undefined;
}

export interface ModelResolver {
  resolve(name: string): Promise<ResolvedModel>;
}

export interface SchedulerOptions {
  engine: InferenceEngine;
  models: ModelResolver;
  events: EventBus;
  /** Every reading and timer: queue waits and deadlines, keep-alive, ordering by age. */
  time: TimePort;
  logger: Logger;
  contextTokens: number;
  parallel: number;
  threads: number;
  gpu: GpuChoice;
  loadTimeoutMs: number;
  maxLoadedModels: number;
  /** Requests waiting (for a load or a sequence) across all models. */
  maxQueued: number;
  maxQueuedPerModel: number;
  /** Longest wait for a free sequence, ms; -1 waits without limit. */
  queueTimeoutMs: number;
  /** How long an idle model stays loaded, ms; 0 unloads at once, -1 keeps it forever. */
  keepAliveMs: number;
  queuePolicy: QueuePolicyName;
  /** See policies.ts: one priority class per step of waiting. */
  agingStepMs: number;
  /** Asked for; it applies only under the priority policy (see isPreemptionInEffect). */
  isPreemptionEnabled: boolean;
  /** Memory all loaded models may use together. */
  memoryBudgetBytes: number;
  /** Models never evicted and kept loaded once loaded. */
  pinnedModels: readonly string[];
  /** What a model needs in memory (the server passes the GPU planner's estimate). */
  estimateMemory: (model: ResolvedModel) => MemoryEstimate;
}
