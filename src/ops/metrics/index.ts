/**
 * MetricsCollector: request timing, tokens/s, percentiles over sliding windows, Prometheus
 * exposition, JSON/CSV export, per-minute history and performance warnings.
 */
export { MetricsCollector, type MetricsCollectorOptions, type MetricsSettings } from "./metrics-collector.js";
export { liveWindows } from "./metrics-windows.js";
export { createMetricsRoutes, type MetricsExport, type MetricsRoutesOptions } from "./metrics-routes.js";
export type { WarningSettings } from "./performance-rules.js";
export type {
  ServerState,
  ServerStateProvider,
  LoadedModelState,
  LoadedModelPlan,
  QueueState,
} from "./server-state.js";
export type { MetricsSnapshot } from "./metrics-snapshot.js";
export {
  EventLoopLagSampler,
  type EventLoopLagReader,
  type EventLoopLagSamplerOptions,
} from "./event-loop-lag.js";
export type { ClusterState } from "./cluster-metrics.js";
export type { PerformanceWarning } from "./warning-rules.js";
export { exactQuantile, QuantileSketch, relativeAccuracy } from "./quantile-sketch.js";
export { parseCsv, toCsv } from "./csv.js";
