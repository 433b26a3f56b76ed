/**
 * Server-level readings the collector samples when it aggregates or is scraped, never on the
 * request path: the scheduler's view with each runner's resident memory (injected by src/app,
 * since ops cannot import the scheduler or gpu), and event-loop delay from perf_hooks.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
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

/**
 * Event-loop delay per interval: `take()` reads the interval's figures and starts a new one.
 * perf_hooks samples the time between ticks of a `resolutionMs` timer; the lag is the excess.
 */
export class EventLoopLagMonitor {
  readonly #histogram: IntervalHistogram;
  readonly #resolutionMs: number;
  #isEnabled = false;

  /**
   * Each sample is a timer tick that wakes the main process. 10 ms (perf_hooks' default) woke an
   * idle server 100 times a second, more often than a 134M model streams tokens, each wake-up
   * taking a core from the runner's threads (issue #17, ADR 0019); 100 ms, as the SLA monitor's,
   * still catches a blocked loop within a metrics interval (50 until ADR 0039: at a 134M model's
   * pace the idle timers were half the main process's wake-ups per streamed token).
   */
  constructor(resolutionMs = 100) {
    this.#resolutionMs = resolutionMs;
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  start(): void {
    if (this.#isEnabled) return;
    this.#histogram.enable();
    this.#isEnabled = true;
  }

  take(): EventLoopLag | undefined {
    const histogram = this.#histogram;
    if (!this.#isEnabled || histogram.count === 0) return undefined;
    const excess = (nanoseconds: number): number => Math.max(0, nanoseconds / 1e6 - this.#resolutionMs);
    const lag = {
      p50Ms: excess(histogram.percentile(50)),
      p99Ms: excess(histogram.percentile(99)),
      maxMs: excess(histogram.max),
      meanMs: excess(histogram.mean),
    };
    histogram.reset();
    return lag;
  }

  stop(): void {
    if (!this.#isEnabled) return;
    this.#histogram.disable();
    this.#isEnabled = false;
  }
}
