/**
 * The wire forms of the metrics: JSON (snake_case, like the rest of the native API) and CSV
 * (RFC 4180, one row per scope and statistic, so a spreadsheet pivots it as is). Times are ms,
 * rates tokens/s, timestamps ISO 8601 UTC; numbers are rounded to 3 decimals.
 */
import { clusterJson } from "./cluster-metrics.js";
import { toCsv, type CsvValue } from "./csv.js";
import type { RollupRow } from "./metrics-history.js";
import type { MetricsSnapshot, ModelSummary, ServerSnapshot } from "./metrics-snapshot.js";
import type { SketchSummary } from "./quantile-sketch.js";
import {
  metricDefinitions,
  metricNames,
  metricValues,
  type MetricValues,
  type RequestRecord,
} from "./request-record.js";
import type { SeriesSummary } from "./series-stats.js";
import type { PerformanceWarning } from "./warning-rules.js";

const round = (value: number | null | undefined): number | null =>
  value === null || value === undefined ? null : Math.round(value * 1000) / 1000;
const iso = (ms: number): string => new Date(ms).toISOString();

function statsJson(stats: SketchSummary) {
  return {
    count: stats.count,
    min: round(stats.min),
    max: round(stats.max),
    mean: round(stats.mean),
    p50: round(stats.p50),
    p95: round(stats.p95),
    p99: round(stats.p99),
  };
}

export function seriesJson(summary: SeriesSummary) {
  return {
    requests: summary.requests,
    outcomes: summary.outcomes,
    errors: summary.errors,
    tokens: summary.tokens,
    stats: Object.fromEntries(metricNames.map((name) => [name, statsJson(summary.stats[name])])),
  };
}

function serverJson(server: ServerSnapshot) {
  return {
    uptime_ms: Math.round(server.uptimeMs),
    in_flight: server.inFlight,
    queued: server.queued,
    running: server.running,
    queue: server.queue.map((row) => ({
      model: row.model,
      priority: row.priority,
      queued: row.queued,
      running: row.running,
    })),
    compute_backend: server.computeBackend ?? null,
    loaded_models: server.loadedModels.map((loaded) => ({
      model: loaded.model,
      pid: loaded.pid ?? null,
      memory_bytes: loaded.memoryBytes,
      resident_bytes: loaded.residentBytes ?? null,
      plan:
        loaded.plan === undefined
          ? null
          : {
              backend: loaded.plan.backend,
              engine_build: loaded.plan.engineBuild,
              gpu_layers: loaded.plan.gpuLayers,
              decode_threads: loaded.plan.decodeThreads,
              prompt_threads: loaded.plan.promptThreads,
              estimated_resident_bytes: loaded.plan.estimatedResidentBytes,
            },
    })),
    runner_restarts: server.runnerRestarts,
    memory_budget_bytes: server.memoryBudgetBytes,
    process_resident_bytes: server.processResidentBytes,
    event_loop_lag_ms:
      server.eventLoopLag === undefined
        ? null
        : {
            p50: round(server.eventLoopLag.p50Ms),
            p99: round(server.eventLoopLag.p99Ms),
            max: round(server.eventLoopLag.maxMs),
            mean: round(server.eventLoopLag.meanMs),
          },
    active_warnings: server.activeWarnings,
  };
}

export function snapshotJson(snapshot: MetricsSnapshot) {
  return {
    window: snapshot.window,
    from: iso(snapshot.fromMs),
    to: iso(snapshot.toMs),
    source: snapshot.source,
    overall: seriesJson(snapshot.overall),
    models: Object.fromEntries(
      Object.entries(snapshot.models).map(([model, summary]: [string, ModelSummary]) => [
        model,
        {
          ...seriesJson(summary),
          priorities: Object.fromEntries(
            Object.entries(summary.priorities).map(([priority, view]) => [priority, seriesJson(view)]),
          ),
        },
      ]),
    ),
    priorities: Object.fromEntries(
      Object.entries(snapshot.priorities).map(([priority, view]) => [priority, seriesJson(view)]),
    ),
    server: serverJson(snapshot.server),
    ...(snapshot.server.cluster === undefined ? {} : { cluster: clusterJson(snapshot.server.cluster) }),
  };
}

const statisticHeader = ["statistic", "unit", "count", "total", "min", "max", "mean", "p50", "p95", "p99"];

/** Rows for one scope: request counts by outcome and error, then each statistic. */
function seriesRows(prefix: readonly CsvValue[], summary: SeriesSummary): CsvValue[][] {
  // Every row has every column (RFC 4180); counts leave the statistics empty.
  const countRow = (statistic: string, count: number): CsvValue[] => [
    ...prefix,
    statistic,
    "requests",
    count,
    count,
    null,
    null,
    null,
    null,
    null,
    null,
  ];
  const rows: CsvValue[][] = [countRow("requests", summary.requests)];
  for (const [outcome, count] of Object.entries(summary.outcomes))
    rows.push(countRow(`outcome.${outcome}`, count));
  for (const [code, count] of Object.entries(summary.errors)) rows.push(countRow(`error.${code}`, count));
  for (const name of metricNames) {
    const stats = summary.stats[name];
    const total = stats.mean === null ? null : round(stats.mean * stats.count);
    rows.push([
      ...prefix,
      name,
      metricDefinitions[name].unit,
      stats.count,
      total,
      round(stats.min),
      round(stats.max),
      round(stats.mean),
      round(stats.p50),
      round(stats.p95),
      round(stats.p99),
    ]);
  }
  return rows;
}

/** One row per scope (all, each model, each model × priority, each priority) and statistic; "*" = all. */
export function snapshotCsv(snapshot: MetricsSnapshot): string {
  const window = [snapshot.window, iso(snapshot.fromMs), iso(snapshot.toMs)];
  const rows: CsvValue[][] = seriesRows([...window, "*", "*"], snapshot.overall);
  for (const [model, summary] of Object.entries(snapshot.models)) {
    rows.push(...seriesRows([...window, model, "*"], summary));
    for (const [priority, view] of Object.entries(summary.priorities))
      rows.push(...seriesRows([...window, model, priority], view));
  }
  for (const [priority, view] of Object.entries(snapshot.priorities))
    rows.push(...seriesRows([...window, "*", priority], view));
  return toCsv(["window", "from", "to", "model", "priority", ...statisticHeader], rows);
}

/** Per-minute rollups, one row per minute, model, priority and statistic. */
export function rollupsCsv(rows: readonly RollupRow[]): string {
  return toCsv(
    ["minute", "model", "priority", ...statisticHeader],
    rows.flatMap((row) => seriesRows([iso(row.minuteMs), row.model, row.priority], row.stats.summary())),
  );
}

export function rollupsJson(rows: readonly RollupRow[]) {
  return rows.map((row) => ({
    minute: iso(row.minuteMs),
    model: row.model,
    priority: row.priority,
    ...seriesJson(row.stats.summary()),
  }));
}

type RequestCell = (record: RequestRecord, values: MetricValues) => CsvValue;

/** The request log's columns in wire order, each beside how it reads a record (keyed, so none can shift). */
const requestColumns: Readonly<Record<string, RequestCell>> = {
  request_id: (record) => record.requestId,
  ended_at: (record) => iso(record.endedAtMs),
  model: (record) => record.model,
  priority: (record) => record.priority,
  outcome: (record) => record.outcome,
  error_code: (record) => record.errorCode,
  api_key_id: (record) => record.apiKeyId,
  queue_ms: (record) => round(record.queueMs),
  load_ms: (record) => round(record.loadMs),
  prompt_ms: (record) => round(record.promptMs),
  time_to_first_token_ms: (record) => round(record.timeToFirstTokenMs),
  decode_ms: (record) => round(record.decodeMs),
  total_ms: (record) => round(record.totalMs),
  prompt_tokens: (record) => record.promptTokens,
  completion_tokens: (record) => record.completionTokens,
  cached_tokens: (record) => record.cachedTokens,
  drafted_tokens: (record) => record.draftedTokens,
  accepted_tokens: (record) => record.acceptedTokens,
  preemptions: (record) => record.preemptions,
  prompt_tokens_per_second: (_record, values) => round(values.prompt_tokens_per_second),
  inter_token_latency_ms: (_record, values) => round(values.inter_token_latency_ms),
  decode_tokens_per_second: (_record, values) => round(values.decode_tokens_per_second),
};

function requestEntries(record: RequestRecord): [string, CsvValue][] {
  const values = metricValues(record);
  return Object.entries(requestColumns).map(([column, cell]) => [column, cell(record, values)]);
}

export function requestsCsv(records: readonly RequestRecord[]): string {
  return toCsv(
    Object.keys(requestColumns),
    records.map((record) => requestEntries(record).map(([, value]) => value)),
  );
}

export function requestsJson(records: readonly RequestRecord[]) {
  return records.map((record) =>
    Object.fromEntries(requestEntries(record).map(([column, value]) => [column, value ?? null])),
  );
}

export function warningJson(warning: PerformanceWarning) {
  return {
    id: warning.id,
    rule: warning.rule,
    model: warning.model ?? null,
    state: warning.state,
    value: round(warning.value),
    threshold: warning.threshold,
    message: warning.message,
    started_at: iso(warning.startedAtMs),
    cleared_at: warning.clearedAtMs === undefined ? null : iso(warning.clearedAtMs),
  };
}
