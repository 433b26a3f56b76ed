/** The live status (GET /v1/sla/status, `rawrxd sla status`, the /metrics gauges). */
import { reportedBurnWindows } from "./burn-rate.js";
import {
  badFractionOver,
  monthOf,
  monthWindow,
  type Availability,
  type ErrorBudget,
  type StateTally,
} from "./sla-arithmetic.js";
import { budgetView, measureWindow, type BudgetView } from "./sla-report.js";
import type { CheckResult, ServiceState } from "./service-state.js";
import { SlaStore, type Incident, type MaintenanceWindow } from "./sla-store.js";
import type { Database } from "../../store/index.js";

export interface SlaStatus {
  /** `starting` until the first round of checks; `maintenance` inside a declared window. */
  state: ServiceState | "maintenance" | "starting";
  /** What the checks say, maintenance or not. */
  observedState: ServiceState | undefined;
  checkedAt: string | null;
  intervalSeconds: number;
  checks: CheckResult[];
  openIncident: Incident | null;
  maintenance: { start: string; end: string; reason: string } | null;
  month: string;
  targetPercent: number;
  availability: { observed: number | null; conservative: number | null };
  coverage: number | null;
  budget: BudgetView;
  /** Burn rate over the last 5 m, 1 h, 6 h and 3 d. */
  burnRates: Record<string, number | null>;
  /** Burn-rate rules firing now. */
  firingAlerts: string[];
}

export interface StatusInput {
  store: SlaStore;
  nowMs: number;
  month: string;
  measured: {
    tally: StateTally;
    availability: Availability;
    budget: ErrorBudget;
    maintenance: MaintenanceWindow[];
  };
  state: ServiceState | undefined;
  checks: CheckResult[];
  checkedAtMs: number | undefined;
  openIncident: Incident | undefined;
  settings: { intervalMs: number; targetPercent: number };
  firingAlerts: string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function slaStatusOf(input: StatusInput): SlaStatus {
  const { nowMs, measured, settings, store } = input;
  const span = { startMs: nowMs - reportedBurnWindows[3].windowMs, endMs: nowMs };
  const burnInput = {
    intervals: store.intervalsOverlapping(span),
    maintenance: store.maintenanceOverlapping(span),
    monitoringStartMs: store.monitoringStartMs(),
    nowMs,
  };
  const allowance = 1 - settings.targetPercent / 100;
  const burnRates = Object.fromEntries(
    reportedBurnWindows.map(({ label, windowMs }) => [
      label,
      allowance > 0 ? badFractionOver(burnInput, windowMs) / allowance : null,
    ]),
  );
  const inMaintenance = measured.maintenance.find(
    (window) => window.startMs <= nowMs && nowMs < window.endMs,
  );
  const { budget } = measured;
  return {
    state: inMaintenance !== undefined ? "maintenance" : (input.state ?? "starting"),
    observedState: input.state,
    checkedAt: input.checkedAtMs === undefined ? null : iso(input.checkedAtMs),
    intervalSeconds: settings.intervalMs / 1000,
    checks: input.checks,
    openIncident: input.openIncident ?? null,
    maintenance:
      inMaintenance === undefined
        ? null
        : { start: iso(inMaintenance.startMs), end: iso(inMaintenance.endMs), reason: inMaintenance.reason },
    month: input.month,
    targetPercent: settings.targetPercent,
    availability: {
      observed: measured.availability.observed,
      conservative: measured.availability.conservative,
    },
    coverage: measured.availability.coverage,
    budget: budgetView(budget),
    burnRates,
    firingAlerts: input.firingAlerts,
  };
}

/**
 * The status as the database tells it, for `rawrxd sla status` with or without a server: the
 * newest interval's state while its heartbeat is fresh (within 3 intervals), else "not running".
 */
export function storedStatus(
  database: Database,
  options: { nowMs: number; intervalMs: number; targetPercent: number },
): Omit<SlaStatus, "state"> & {
  state: SlaStatus["state"] | "not-running";
  lastHeartbeat: string | null;
  isRunning: boolean;
} {
  const store = new SlaStore(database);
  const { nowMs } = options;
  const month = monthOf(nowMs);
  const last = store.lastInterval();
  const isRunning =
    last !== undefined && last.state !== "unknown" && nowMs - last.endMs <= 3 * options.intervalMs;
  const state = isRunning && last.state !== "unknown" ? last.state : undefined;
  const status = slaStatusOf({
    store,
    nowMs,
    month,
    measured: measureWindow(store, monthWindow(month)!, { targetPercent: options.targetPercent, nowMs }),
    state,
    checks: [],
    checkedAtMs: isRunning ? last.endMs : undefined,
    openIncident: store.openIncidents().at(-1),
    settings: options,
    firingAlerts: [],
  });
  return {
    ...status,
    state: isRunning ? status.state : "not-running",
    lastHeartbeat: last === undefined ? null : iso(last.endMs),
    isRunning,
  };
}
