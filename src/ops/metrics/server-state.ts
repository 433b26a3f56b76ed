/**
 * Server-level readings the collector samples when it aggregates or is scraped, never on the
 * request path: the scheduler's view with each runner's resident memory (injected by src/app,
 * since ops cannot import the scheduler or gpu), and event-loop delay (event-loop-lag.ts).
 */
import type { Priority } from "../../core/index.js";
import type { ClusterState } from "./cluster-metrics.js";

export interface LoadedModelState {
  model: string;
  /** Runner process id; undefined for in-process engines. */
  pid: number | undefined;
  /** Memory the engine reserved for weights and context. */
  memoryBytes: number;
  /** Resident memory (RSS) of its runner process when the state was taken; undefined where unknown. */
  residentBytes?: number | undefined;
  /** How the runner runs it (GET /v1/gpu); undefined for in-process engines. */
  plan?: LoadedModelPlan | undefined;
}

/** The compute facts of a loaded model, from its runner's plan. */
export interface LoadedModelPlan {
  backend: string;
  /** "prebuilt" or "localBuild". */
  engineBuild: string;
  gpuLayers: number;
  decodeThreads: number;
  promptThreads: number;
  /** The planner's estimate of the runner's resident memory; compare with residentBytes. */
  estimatedResidentBytes: number;
}

export interface QueueState {
  model: string;
  priority: Priority;
  queued: number;
  running: number;
}

export interface ServerState {
  loadedModels: LoadedModelState[];
  queue: QueueState[];
  /** The scheduler's memory budget for all loaded models, bytes. */
  memoryBudgetBytes: number;
  /** The compute backend detection chose (cuda, vulkan, cpu); undefined when unknown. */
  computeBackend?: string | undefined;
  /** This node's view of the cluster (--cluster only). */
  cluster?: ClusterState | undefined;
}

export type ServerStateProvider = () => ServerState;

export const emptyServerState: ServerStateProvider = () => ({
  loadedModels: [],
  queue: [],
  memoryBudgetBytes: 0,
});

export interface EventLoopLag {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}
