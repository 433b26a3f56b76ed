/**
 * What a load run shows: outcomes by kind, latency per priority, memory over time, event-loop
 * lag, the audit check, and the properties (zero 5xx / hangs / resets / broken streams, every
 * rejection with Retry-After, zero lost audit records, verify passes).
 */
import { percentile } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import type { LoadRun, Sample } from "./load-generator.js";
import { priorities, violationKinds, type OutcomeKind, type Priority } from "./load-request.js";

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface PriorityLatency {
  served: number;
  rejected: number;
  timeToFirstTokenMs: Percentiles;
  totalMs: Percentiles;
}

export interface LoadSummary {
  requests: number;
  byKind: Partial<Record<OutcomeKind, number>>;
  byDialect: Record<string, Partial<Record<OutcomeKind, number>>>;
  violations: number;
  violationExamples: { kind: OutcomeKind; id: string; detail: string }[];
  /** DELETE /v1/requests/{id} answers with a 5xx or no answer. */
  failedDeletes: number;
  servedPerSecond: number;
  tokensPerSecond: number;
  latency: Record<Priority, PriorityLatency>;
  memory: {
    firstThirdMedianBytes: number;
    lastThirdMedianBytes: number;
    growthBytes: number;
    growthFraction: number;
    maxBytes: number;
  };
  eventLoopLag: { medianP99Ms: number; maxP99Ms: number; maxMs: number };
  properties: {
    noViolations: boolean;
    everyRejectionHasRetryAfter: boolean;
    noLostAuditRecords: boolean;
    auditVerified: boolean;
    serverStoppedCleanly: boolean;
  };
}

function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 0.5), p95: percentile(values, 0.95), p99: percentile(values, 0.99) };
}

function count<T extends string>(keys: readonly T[]): Partial<Record<T, number>> {
  const counts: Partial<Record<T, number>> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

/** Median of the samples in the first and the last third of the run, so a warm-up or one spike does not decide. */
function memoryTrend(samples: readonly Sample[]): LoadSummary["memory"] {
  const rss = samples.map((reading) => reading.mainRssBytes).filter(Number.isFinite);
  const third = Math.max(1, Math.floor(rss.length / 3));
  const first = percentile(rss.slice(0, third), 0.5);
  const last = percentile(rss.slice(-third), 0.5);
  return {
    firstThirdMedianBytes: first,
    lastThirdMedianBytes: last,
    growthBytes: last - first,
    growthFraction: (last - first) / first,
    maxBytes: rss.length === 0 ? Number.NaN : Math.max(...rss),
  };
}

export function summarizeLoad(run: LoadRun): LoadSummary {
  const { outcomes } = run;
  const byKind = count(outcomes.map((outcome) => outcome.kind));
  const byDialect: LoadSummary["byDialect"] = {};
  for (const dialect of new Set(outcomes.map((outcome) => outcome.plan.dialect))) {
    byDialect[dialect] = count(outcomes.filter((o) => o.plan.dialect === dialect).map((o) => o.kind));
  }
  const violations = outcomes.filter((outcome) => violationKinds.includes(outcome.kind));
  const served = outcomes.filter((outcome) => outcome.kind === "served");
  const latency = Object.fromEntries(
    priorities.map((priority) => {
      const ofPriority = served.filter((outcome) => outcome.plan.priority === priority);
      return [
        priority,
        {
          served: ofPriority.length,
          rejected: outcomes.filter((o) => o.kind === "rejected" && o.plan.priority === priority).length,
          timeToFirstTokenMs: percentiles(ofPriority.map((o) => o.timeToFirstTokenMs ?? Number.NaN)),
          totalMs: percentiles(ofPriority.map((o) => o.totalMs)),
        },
      ];
    }),
  ) as Record<Priority, PriorityLatency>;
  const lags = run.samples.flatMap((reading) =>
    reading.eventLoopLag === undefined ? [] : [reading.eventLoopLag],
  );
  const failedDeletes = Object.entries(run.deleteStatuses)
    .filter(([status]) => Number(status) === 0 || Number(status) >= 500)
    .reduce((sum, [, times]) => sum + times, 0);
  const tokens = served.reduce((sum, outcome) => sum + (outcome.completionTokens ?? 0), 0);
  return {
    requests: outcomes.length,
    byKind,
    byDialect,
    violations: violations.length + failedDeletes,
    violationExamples: violations
      .slice(0, 8)
      .map((outcome) => ({ kind: outcome.kind, id: outcome.plan.id, detail: outcome.detail ?? "" })),
    failedDeletes,
    servedPerSecond: (served.length * 1000) / run.elapsedMs,
    tokensPerSecond: (tokens * 1000) / run.elapsedMs,
    latency,
    memory: memoryTrend(run.samples),
    eventLoopLag: {
      medianP99Ms: percentile(
        lags.map((lag) => lag.p99Ms),
        0.5,
      ),
      maxP99Ms: lags.length === 0 ? Number.NaN : Math.max(...lags.map((lag) => lag.p99Ms)),
      maxMs: lags.length === 0 ? Number.NaN : Math.max(...lags.map((lag) => lag.maxMs)),
    },
    properties: {
      noViolations: violations.length === 0 && failedDeletes === 0,
      everyRejectionHasRetryAfter: (byKind["unmarked-rejection"] ?? 0) === 0,
      noLostAuditRecords: run.audit.missingRecords === 0,
      auditVerified: run.audit.verifyPassed,
      serverStoppedCleanly: run.serverExit.code === 0 && !run.serverExit.killed,
    },
  };
}

const mib = (bytes: number): string => formatNumber(bytes / 2 ** 20, 1);
const yesNo = (value: boolean): string => (value ? "yes" : "NO");

/** The terminal (and README) report: outcomes, latency per priority, memory series, properties. */
export function formatLoadReport(run: LoadRun, summary: LoadSummary): string {
  const kinds: OutcomeKind[] = [
    "served",
    "rejected",
    "aborted",
    "cancelled",
    "disconnected",
    "client-error",
    ...violationKinds,
  ];
  const outcomeTable = formatTable(
    ["outcome", "requests", "openai", "ollama"],
    kinds.map((kind) => [
      kind,
      String(summary.byKind[kind] ?? 0),
      String(summary.byDialect["openai"]?.[kind] ?? 0),
      String(summary.byDialect["ollama"]?.[kind] ?? 0),
    ]),
  );
  const latencyTable = formatTable(
    ["priority", "served", "rejected", "TTFT p50", "p95", "p99", "total p50", "p95", "p99"],
    priorities.map((priority) => {
      const row = summary.latency[priority];
      return [
        priority,
        String(row.served),
        String(row.rejected),
        ...[row.timeToFirstTokenMs, row.totalMs].flatMap((values) =>
          [values.p50, values.p95, values.p99].map((ms) => formatNumber(ms, 0)),
        ),
      ];
    }),
  );
  const memoryTable = formatTable(
    ["t (s)", "main RSS MiB", "runner RSS MiB", "lag p99 ms", "in flight"],
    thin(run.samples, 12).map((reading) => [
      formatNumber(reading.atMs / 1000, 0),
      mib(reading.mainRssBytes),
      mib(reading.runnerRssBytes),
      formatNumber(reading.eventLoopLag?.p99Ms ?? Number.NaN, 1),
      String(reading.inFlight),
    ]),
  );
  const { memory, eventLoopLag, properties } = summary;
  const { audit } = run;
  return [
    `${summary.requests} requests in ${formatNumber(run.elapsedMs / 1000, 1)} s from ${run.options.clients} clients, --max-queue ${run.options.maxQueue}, ${run.modelLabel}: ` +
      `${formatNumber(summary.servedPerSecond, 2)} served/s, ${formatNumber(summary.tokensPerSecond, 1)} tok/s served`,
    "",
    outcomeTable,
    "",
    "Latency of served requests (ms, request sent → first text / end of stream):",
    latencyTable,
    "",
    "Server main process over time:",
    memoryTable,
    `main RSS: first third ${mib(memory.firstThirdMedianBytes)} MiB, last third ${mib(memory.lastThirdMedianBytes)} MiB ` +
      `(${memory.growthBytes >= 0 ? "+" : ""}${mib(memory.growthBytes)} MiB, ${formatNumber(memory.growthFraction * 100, 1)} %), max ${mib(memory.maxBytes)} MiB`,
    `event-loop lag: p99 median ${formatNumber(eventLoopLag.medianP99Ms, 1)} ms, p99 max ${formatNumber(eventLoopLag.maxP99Ms, 1)} ms, max ${formatNumber(eventLoopLag.maxMs, 1)} ms`,
    `audit: ${audit.inferenceRecords} inference records; ${audit.servedRequests - audit.missingRecords}/${audit.servedRequests} served requests recorded` +
      `${audit.missingRecords > 0 ? ` (missing e.g. ${audit.missingExamples.join(", ")})` : ""}; ` +
      `client-cancelled recorded ${audit.cancelledRecorded.recorded}/${audit.cancelledRecorded.of}; verify: ${audit.verifySummary}`,
    `DELETE answers: ${JSON.stringify(run.deleteStatuses)}; server exit: ${run.serverExit.code ?? run.serverExit.signal}${run.serverExit.killed ? " (killed after the stop timeout)" : ""}`,
    "",
    formatTable(
      ["property", "holds"],
      [
        ["no 5xx, hang, reset or broken stream", yesNo(properties.noViolations)],
        ["every rejection 429/503 with Retry-After", yesNo(properties.everyRejectionHasRetryAfter)],
        ["every served request has its audit record", yesNo(properties.noLostAuditRecords)],
        ["rawrxd audit verify passes", yesNo(properties.auditVerified)],
        ["server stopped cleanly on SIGTERM", yesNo(properties.serverStoppedCleanly)],
      ],
    ),
    ...(summary.violationExamples.length === 0
      ? []
      : [
          "",
          "Violations (first few):",
          ...summary.violationExamples.map((v) => `  ${v.kind} ${v.id}: ${v.detail}`),
        ]),
  ].join("\n");
}

/** At most `rows` samples, evenly spaced, the last one always included. */
function thin(samples: readonly Sample[], rows: number): Sample[] {
  if (samples.length <= rows) return [...samples];
  const step = (samples.length - 1) / (rows - 1);
  return Array.from({ length: rows }, (_, index) => samples[Math.round(index * step)]!);
}
