/**
 * SLAManager (issue #13): health checks every --health-interval, time-weighted availability
 * with coverage and two figures, incidents, the error budget, burn-rate alerts, monthly reports.
 */
export { SlaManager, type SlaManagerOptions, type SlaSettings } from "./sla-manager.js";
export { SlaStore, type Incident, type MaintenanceWindow, type AlertDelivery } from "./sla-store.js";
export { AlertDispatch } from "./alert-dispatch.js";
export { WebhookSink, type SlaAlert, type WebhookOptions, type PostJson } from "./alert-webhook.js";
export type { SlaProbes } from "./health-checks.js";
export { storedStatus, type SlaStatus } from "./sla-status.js";
export { buildReport, reportCsv, type SlaReport } from "./sla-report.js";
export { ttftSlos, type LatencySlo } from "./latency-slos.js";
export { createSlaRoutes, incidentJson, type SlaRouteSource } from "./sla-routes.js";
export { registerSlaMetrics } from "./sla-prometheus.js";
export { monthOf, monthWindow, allowedDowntimeMs } from "./sla-arithmetic.js";
export { burnRateRules } from "./burn-rate.js";
export type { CheckResult, ServiceState } from "./service-state.js";
export {
  ClusterSla,
  type ClusterSlaOptions,
  type ClusterSlaSettings,
  type ClusterIncident,
} from "./cluster-sla.js";
export {
  clusterHealthOf,
  type ClusterAdvert,
  type ClusterHealth,
  type LocalSlaStatus,
  type ModelHealth,
  type NodeHealth,
} from "./cluster-health.js";
export type { ClusterSlaJson } from "./cluster-sla-json.js";
export {
  startClusterSlaTicks,
  type ClusterSlaTicks,
  type ClusterSlaTicksOptions,
} from "./cluster-sla-ticks.js";
export { registerClusterSlaMetrics } from "./cluster-sla-prometheus.js";
