/**
 * A read of the metrics: the leaf series (model × priority) of one window grouped into the
 * overall view, per model (with its priorities) and per priority, plus the server's state.
 */
import type { WallMs } from "../../core/index.js";
import {
  type EventLoopLag,
  type LoadedModelPlan,
  type QueueState,
  type ServerState,
} from "./server-state.js";
import type { ClusterState } from "./cluster-metrics.js";
import { SeriesStats, statsAt, type SeriesSummary } from "./series-stats.js";

export interface ModelSummary extends SeriesSummary {
  priorities: Record<string, SeriesSummary>;
}

export interface LoadedModelSnapshot {
  model: string;
  pid: number | undefined;
  memoryBytes: number;
  /** RSS of the runner process, when it has one and /proc is readable. */
  residentBytes: number | undefined;
  plan?: LoadedModelPlan | undefined;
}

export interface ServerSnapshot {
  uptimeMs: number;
  inFlight: number;
  queued: number;
  running: number;
  queue: QueueState[];
  loadedModels: LoadedModelSnapshot[];
  /** Unexpected runner exits per model since the server started. */
  runnerRestarts: Record<string, number>;
  memoryBudgetBytes: number;
  computeBackend: string | undefined;
  processResidentBytes: number;
  /** Over the last aggregation interval; undefined before the first. */
  eventLoopLag: EventLoopLag | undefined;
  activeWarnings: number;
  /** This node's view of the cluster; undefined without --cluster. */
  cluster: ClusterState | undefined;
}

export interface MetricsSnapshot {
  /** As asked: 1m, 5m, 1h, start, or a history range such as 24h. */
  window: string;
  fromMs: WallMs;
  toMs: WallMs;
  /** Where the figures come from: live windows, or the per-minute rollups. */
  source: "live" | "rollups";
  overall: SeriesSummary;
  models: Record<string, ModelSummary>;
  priorities: Record<string, SeriesSummary>;
  server: ServerSnapshot;
}

const separator = "\u0001";

export function seriesKey(model: string, priority: string): string {
  return model + separator + priority;
}

export function splitSeriesKey(key: string): { model: string; priority: string } {
  const at = key.lastIndexOf(separator);
  return { model: key.slice(0, at), priority: key.slice(at + 1) };
}

/** Groups leaf series into the overall, per-model (with priorities) and per-priority summaries. */
export function groupSeries(
  leaves: ReadonlyMap<string, SeriesStats>,
): Pick<MetricsSnapshot, "overall" | "models" | "priorities"> {
  const overall = new SeriesStats();
  const models = new Map<string, { total: SeriesStats; priorities: Map<string, SeriesStats> }>();
  const priorities = new Map<string, SeriesStats>();
  for (const [key, stats] of [...leaves].sort(([a], [b]) => a.localeCompare(b))) {
    const { model, priority } = splitSeriesKey(key);
    overall.merge(stats);
    let byModel = models.get(model);
    if (byModel === undefined) {
      byModel = { total: new SeriesStats(), priorities: new Map() };
      models.set(model, byModel);
    }
    byModel.total.merge(stats);
    byModel.priorities.set(priority, stats);
    statsAt(priorities, priority).merge(stats);
  }
  return {
    overall: overall.summary(),
    models: Object.fromEntries(
      [...models].map(([model, group]) => [
        model,
        {
          ...group.total.summary(),
          priorities: Object.fromEntries(
            [...group.priorities].map(([priority, stats]) => [priority, stats.summary()]),
          ),
        },
      ]),
    ),
    priorities: Object.fromEntries([...priorities].map(([priority, stats]) => [priority, stats.summary()])),
  };
}

/** Merges per-model leaf series over priorities (the rules look at models). */
export function mergeByModel(leaves: ReadonlyMap<string, SeriesStats>): Map<string, SeriesStats> {
  const models = new Map<string, SeriesStats>();
  for (const [key, stats] of leaves) {
    statsAt(models, splitSeriesKey(key).model).merge(stats);
  }
  return models;
}

/** The server's state at a read: the scheduler's view plus what the collector counts itself. */
export function describeServer(
  state: ServerState,
  counted: Pick<ServerSnapshot, "uptimeMs" | "runnerRestarts" | "eventLoopLag" | "activeWarnings">,
): ServerSnapshot {
  const queued = state.queue.reduce((sum, row) => sum + row.queued, 0);
  const running = state.queue.reduce((sum, row) => sum + row.running, 0);
  return {
    ...counted,
    inFlight: queued + running,
    queued,
    running,
    queue: state.queue,
    loadedModels: state.loadedModels.map((loaded) => ({ ...loaded, residentBytes: loaded.residentBytes })),
    memoryBudgetBytes: state.memoryBudgetBytes,
    computeBackend: state.computeBackend,
    processResidentBytes: process.memoryUsage.rss(),
    cluster: state.cluster,
  };
}
