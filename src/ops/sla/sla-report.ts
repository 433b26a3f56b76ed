/**
 * The monthly SLA report (GET /v1/sla/report, `rawrxd sla report`): built from the stored
 * intervals, maintenance windows and incidents of one UTC calendar month, so the server and the
 * offline CLI give the same figures. A month with nothing measured says "no-data".
 */
import type { Database } from "../../store/index.js";
import { reportedBurnWindows } from "./burn-rate.js";
import { latencySlosOf, type LatencySlo, type LatencySloResult } from "./latency-slos.js";
import {
  availabilityOf,
  badFractionOver,
  errorBudgetOf,
  monthWindow,
  tallyStates,
  type Availability,
  type ErrorBudget,
  type StateTally,
  type TimeWindow,
} from "./sla-arithmetic.js";
import { SlaStore, type Incident, type MaintenanceWindow } from "./sla-store.js";

export interface SlaReport {
  month: string;
  window: { start: string; end: string; timeZone: "UTC"; kind: "calendar-month" };
  /** no-data: nothing measured; partial: the month is not over (or monitoring began in it); complete. */
  status: "no-data" | "partial" | "complete";
  generatedAt: string;
  targetPercent: number;
  seconds: {
    month: number;
    notMonitored: number;
    measured: number;
    up: number;
    degraded: number;
    down: number;
    maintenance: number;
    unknown: number;
  };
  allowedDowntimeSeconds: number;
  /** observed: down only; conservative: down + unknown. */
  actualDowntimeSeconds: { observed: number; conservative: number };
  /** Fractions (0–1); null with no data. */
  availability: { observed: number | null; conservative: number | null };
  coverage: number | null;
  budget: BudgetView;
  /** Conservative availability ≥ target; null with no data. */
  isMet: boolean | null;
  incidents: {
    id: number;
    start: string;
    end: string | null;
    durationSeconds: number;
    /** The part inside this month (an incident across a month boundary is split). */
    secondsInMonth: number;
    worstState: string;
    cause: string[];
    requestsFailed: number;
    requestsRejected: number;
  }[];
  maintenance: { id: number; start: string; end: string; reason: string }[];
  latencySlos: LatencySloResult[];
}

export interface ReportInput {
  database: Database;
  month: string;
  targetPercent: number;
  nowMs: number;
  latencySlos?: readonly LatencySlo[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
/** Milliseconds as seconds with millisecond precision, as reports and the status give them. */
export const seconds = (ms: number): number => Math.round(ms) / 1000;

/** The error budget as the report and the live status show it. */
export interface BudgetView {
  allowedSeconds: number;
  spentSeconds: number;
  remainingSeconds: number;
  spentPercent: number | null;
  burnRate: number | null;
  projectedAvailability: number | null;
}

/** `hasData` false: no projection (a month without data never projects 100 %). */
export function budgetView(budget: ErrorBudget, hasData = true): BudgetView {
  return {
    allowedSeconds: seconds(budget.allowedMs),
    spentSeconds: seconds(budget.spentMs),
    remainingSeconds: seconds(budget.remainingMs),
    spentPercent: budget.spentFraction === null ? null : budget.spentFraction * 100,
    burnRate: budget.burnRate,
    projectedAvailability: hasData ? budget.projectedAvailability : null,
  };
}

/** The figures of a window up to `nowMs`, shared by the report and the live status. */
export function measureWindow(
  store: SlaStore,
  window: TimeWindow,
  options: { targetPercent: number; nowMs: number },
): { tally: StateTally; availability: Availability; budget: ErrorBudget; maintenance: MaintenanceWindow[] } {
  const { nowMs, targetPercent } = options;
  const recentMs = reportedBurnWindows[2].windowMs;
  const span = { startMs: Math.min(window.startMs, nowMs - recentMs), endMs: window.endMs };
  const intervals = store.intervalsOverlapping(span);
  const maintenance = store.maintenanceOverlapping(span);
  const monitoringStartMs = store.monitoringStartMs();
  const tally = tallyStates({ intervals, maintenance, window, monitoringStartMs, nowMs });
  const recentBadFraction = badFractionOver({ intervals, maintenance, monitoringStartMs, nowMs }, recentMs);
  const budget = errorBudgetOf({
    targetPercent,
    tally,
    monthMs: window.endMs - window.startMs,
    remainingMonthMs: Math.max(0, window.endMs - Math.max(window.startMs, nowMs)),
    recentBadFraction,
  });
  return { tally, availability: availabilityOf(tally), budget, maintenance };
}

export function buildReport(input: ReportInput): SlaReport {
  const window = monthWindow(input.month);
  if (window === undefined) throw new Error(`"${input.month}" is not a month; use YYYY-MM, e.g. 2026-04.`);
  const store = new SlaStore(input.database);
  const { tally, availability, budget, maintenance } = measureWindow(store, window, input);
  const status = tally.measuredMs === 0 ? "no-data" : tally.notMonitoredMs > 0 ? "partial" : "complete";
  const nowMs = input.nowMs;
  return {
    month: input.month,
    window: { start: iso(window.startMs), end: iso(window.endMs), timeZone: "UTC", kind: "calendar-month" },
    status,
    generatedAt: iso(nowMs),
    targetPercent: input.targetPercent,
    seconds: {
      month: seconds(tally.windowMs),
      notMonitored: seconds(tally.notMonitoredMs),
      measured: seconds(tally.measuredMs),
      up: seconds(tally.upMs),
      degraded: seconds(tally.degradedMs),
      down: seconds(tally.downMs),
      maintenance: seconds(tally.maintenanceMs),
      unknown: seconds(tally.unknownMs),
    },
    allowedDowntimeSeconds: seconds(budget.allowedMs),
    actualDowntimeSeconds: {
      observed: seconds(budget.spentObservedMs),
      conservative: seconds(budget.spentMs),
    },
    availability: { observed: availability.observed, conservative: availability.conservative },
    coverage: availability.coverage,
    budget: budgetView(budget, status !== "no-data"),
    isMet: budget.isMet,
    incidents: store
      .incidentsOverlapping(window, nowMs)
      .map((incident) => incidentRow(incident, window, nowMs)),
    maintenance: maintenance
      .filter((entry) => entry.endMs > window.startMs && entry.startMs < window.endMs)
      .map((entry) => ({
        id: entry.id,
        start: iso(entry.startMs),
        end: iso(entry.endMs),
        reason: entry.reason,
        declaredAt: iso(entry.createdMs),
      })),
    latencySlos: latencySlosOf(input.database, window, input.latencySlos ?? []),
  };
}

function incidentRow(incident: Incident, window: TimeWindow, nowMs: number): SlaReport["incidents"][number] {
  const endMs = incident.endMs ?? nowMs;
  return {
    id: incident.id,
    start: iso(incident.startMs),
    end: incident.endMs === undefined ? null : iso(incident.endMs),
    durationSeconds: seconds(endMs - incident.startMs),
    secondsInMonth: seconds(
      Math.max(0, Math.min(endMs, window.endMs) - Math.max(incident.startMs, window.startMs)),
    ),
    worstState: incident.worstState,
    cause: incident.cause,
    requestsFailed: incident.requestsFailed,
    requestsRejected: incident.requestsRejected,
  };
}

const csvField = (value: string | number | boolean | null | undefined): string => {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** Two CSV tables separated by a blank line: the summary (field,value), then the incidents. */
export function reportCsv(report: SlaReport): string {
  const summary: [string, string | number | boolean | null][] = [
    ["month", report.month],
    ["status", report.status],
    ["target_percent", report.targetPercent],
    ["month_seconds", report.seconds.month],
    ["not_monitored_seconds", report.seconds.notMonitored],
    ["up_seconds", report.seconds.up],
    ["degraded_seconds", report.seconds.degraded],
    ["down_seconds", report.seconds.down],
    ["maintenance_seconds", report.seconds.maintenance],
    ["unknown_seconds", report.seconds.unknown],
    ["allowed_downtime_seconds", report.allowedDowntimeSeconds],
    ["downtime_observed_seconds", report.actualDowntimeSeconds.observed],
    ["downtime_conservative_seconds", report.actualDowntimeSeconds.conservative],
    ["availability_observed", report.availability.observed],
    ["availability_conservative", report.availability.conservative],
    ["coverage", report.coverage],
    ["budget_remaining_seconds", report.budget.remainingSeconds],
    ["budget_spent_percent", report.budget.spentPercent],
    ["burn_rate", report.budget.burnRate],
    ["projected_availability", report.budget.projectedAvailability],
    ["is_met", report.isMet],
    ...report.latencySlos.map((slo): [string, string] => [
      `latency_${slo.name}`,
      `${slo.observedMs ?? "no data"} / ${slo.thresholdMs} ms`,
    ]),
  ];
  const lines = ["field,value", ...summary.map(([field, value]) => `${field},${csvField(value)}`), ""];
  lines.push(
    "incident_id,start,end,duration_seconds,seconds_in_month,worst_state,cause,requests_failed,requests_rejected",
  );
  for (const incident of report.incidents)
    lines.push(
      [
        incident.id,
        incident.start,
        incident.end,
        incident.durationSeconds,
        incident.secondsInMonth,
        incident.worstState,
        incident.cause.join("; "),
        incident.requestsFailed,
        incident.requestsRejected,
      ]
        .map(csvField)
        .join(","),
    );
  return lines.join("\n") + "\n";
}
