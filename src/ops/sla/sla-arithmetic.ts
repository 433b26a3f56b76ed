/**
 * The SLA arithmetic, pure and on wall-clock milliseconds (UTC calendar months): how long each
 * state lasted in a window, the two availability figures, coverage, the error budget, burn rates
 * and the end-of-month projection. See docs/decisions/0017-sla-manager.md for the rules:
 *  - `up` and `degraded` are available; `down` is not; `maintenance` (declared windows) is left
 *    out of the SLA; `unknown` (no observation: the server or machine was off) counts as down in
 *    the conservative figure and is left out of the observed one.
 *  - Time before monitoring first started is "not monitored": in no figure at all.
 *  - A window with nothing measured has no availability (null), never 100 %.
 */

/** What the monitor recorded for a stretch of time. */
export type ObservedState = "up" | "degraded" | "down" | "unknown";
/** A reported state: observed, or inside a declared maintenance window. */
export type SlaState = ObservedState | "maintenance";

export interface StateInterval {
  startMs: number;
  endMs: number;
  state: ObservedState;
}

export interface TimeWindow {
  startMs: number;
  endMs: number;
}

export interface StateTally {
  /** The window's length. */
  windowMs: number;
  /** Part of the window before monitoring first started (or after `now`): in no figure. */
  notMonitoredMs: number;
  /** windowMs − notMonitoredMs = up + degraded + down + maintenance + unknown. */
  measuredMs: number;
  upMs: number;
  degradedMs: number;
  downMs: number;
  maintenanceMs: number;
  /** Measured time no observation covers (recorded gaps and anything uncovered). */
  unknownMs: number;
}

/** The UTC calendar month "YYYY-MM" as a window, or undefined when the text is not a month. */
export function monthWindow(month: string): TimeWindow | undefined {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (match === null) return undefined;
  const year = Number(match[1]);
  const monthIndex = Number(match[2]) - 1;
  if (monthIndex < 0 || monthIndex > 11) return undefined;
  return { startMs: Date.UTC(year, monthIndex, 1), endMs: Date.UTC(year, monthIndex + 1, 1) };
}

/** "YYYY-MM" of the UTC month holding `wallMs`. */
export function monthOf(wallMs: number): string {
  const date = new Date(wallMs);
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** Downtime a target (percent, e.g. 99.9) allows over `eligibleMs`: (1 − target) × time. */
export function allowedDowntimeMs(targetPercent: number, eligibleMs: number): number {
  return (1 - targetPercent / 100) * eligibleMs;
}

/** Overlapping or touching windows merged, sorted, clipped to `within`. */
export function mergeWindows(windows: readonly TimeWindow[], within: TimeWindow): TimeWindow[] {
  const clipped = windows
    .map((window) => ({
      startMs: Math.max(window.startMs, within.startMs),
      endMs: Math.min(window.endMs, within.endMs),
    }))
    .filter((window) => window.endMs > window.startMs)
    .sort((left, right) => left.startMs - right.startMs);
  const merged: TimeWindow[] = [];
  for (const window of clipped) {
    const last = merged.at(-1);
    if (last !== undefined && window.startMs <= last.endMs) last.endMs = Math.max(last.endMs, window.endMs);
    else merged.push({ ...window });
  }
  return merged;
}

/** How much of `window` the `parts` cover together (overlaps between parts counted once). */
export function coveredMs(window: TimeWindow, parts: readonly TimeWindow[]): number {
  return lengthMs(mergeWindows(parts, window));
}

/** The summed length of windows that do not overlap (mergeWindows' output). */
function lengthMs(windows: readonly TimeWindow[]): number {
  return windows.reduce((sum, part) => sum + (part.endMs - part.startMs), 0);
}

function overlapMs(left: TimeWindow, right: TimeWindow): number {
  return Math.max(0, Math.min(left.endMs, right.endMs) - Math.max(left.startMs, right.startMs));
}

export interface TallyInput {
  intervals: readonly StateInterval[];
  maintenance: readonly TimeWindow[];
  window: TimeWindow;
  /** When monitoring first started (the oldest record); undefined: never, nothing is measured. */
  monitoringStartMs: number | undefined;
  /** Time after this is not measured yet (the current month). */
  nowMs: number;
}

/** Time-weighted state totals over a window; maintenance wins over any observed state. */
export function tallyStates(input: TallyInput): StateTally {
  const { window } = input;
  const windowMs = window.endMs - window.startMs;
  const measured: TimeWindow = {
    startMs: Math.max(window.startMs, input.monitoringStartMs ?? window.endMs),
    endMs: Math.min(window.endMs, input.nowMs),
  };
  const measuredMs = Math.max(0, measured.endMs - measured.startMs);
  const tally: StateTally = {
    windowMs,
    notMonitoredMs: windowMs - measuredMs,
    measuredMs,
    upMs: 0,
    degradedMs: 0,
    downMs: 0,
    maintenanceMs: 0,
    unknownMs: 0,
  };
  if (measuredMs === 0) return tally;
  const maintenance = mergeWindows(input.maintenance, measured);
  tally.maintenanceMs = lengthMs(maintenance);
  for (const interval of input.intervals) {
    if (interval.state === "unknown") continue;
    const inWindow = overlapMs(interval, measured);
    if (inWindow === 0) continue;
    const inMaintenance = maintenance.reduce((sum, part) => sum + overlapMs(interval, part), 0);
    const counted = Math.max(0, inWindow - inMaintenance);
    if (interval.state === "up") tally.upMs += counted;
    else if (interval.state === "degraded") tally.degradedMs += counted;
    else tally.downMs += counted;
  }
  tally.unknownMs = Math.max(
    0,
    measuredMs - tally.maintenanceMs - tally.upMs - tally.degradedMs - tally.downMs,
  );
  return tally;
}

export interface Availability {
  /** (up + degraded) / (up + degraded + down): what was seen; null when nothing was seen. */
  observed: number | null;
  /** (up + degraded) / (measured − maintenance): unknown counted as down; null when nothing is eligible. */
  conservative: number | null;
  /** (measured − unknown) / measured: how much of the time the monitor saw; null when nothing measured. */
  coverage: number | null;
}

export function availabilityOf(tally: StateTally): Availability {
  const available = tally.upMs + tally.degradedMs;
  const seen = available + tally.downMs;
  const eligible = tally.measuredMs - tally.maintenanceMs;
  return {
    observed: seen > 0 ? available / seen : null,
    conservative: eligible > 0 ? available / eligible : null,
    coverage: tally.measuredMs > 0 ? (tally.measuredMs - tally.unknownMs) / tally.measuredMs : null,
  };
}

export interface ErrorBudget {
  targetPercent: number;
  /** (1 − target) × (month − maintenance). */
  allowedMs: number;
  /** down + unknown (conservative). */
  spentMs: number;
  /** down only (observed). */
  spentObservedMs: number;
  /** allowed − spent; negative once the budget is blown. */
  remainingMs: number;
  /** spent / allowed (1 = the whole budget); null when nothing is allowed (target 100). */
  spentFraction: number | null;
  /** Month to date: bad fraction of eligible time ÷ (1 − target); null with no eligible time. */
  burnRate: number | null;
  /** End-of-month availability if the rest of the month goes as `recentBadFraction`. */
  projectedAvailability: number | null;
  /** Whether the conservative figure meets the target so far (null: no data). */
  isMet: boolean | null;
}

export interface BudgetInput {
  targetPercent: number;
  tally: StateTally;
  /** The whole calendar month (not only the elapsed part). */
  monthMs: number;
  /** Month time after `now` (0 for a past month). */
  remainingMonthMs: number;
  /** Bad fraction over a recent window, for the projection (e.g. the 6 h burn window). */
  recentBadFraction: number;
}

export function errorBudgetOf(input: BudgetInput): ErrorBudget {
  const { tally, targetPercent } = input;
  const allowedMs = allowedDowntimeMs(targetPercent, input.monthMs - tally.maintenanceMs);
  const spentMs = tally.downMs + tally.unknownMs;
  const eligibleMs = tally.measuredMs - tally.maintenanceMs;
  const errorAllowance = 1 - targetPercent / 100;
  const badFraction = eligibleMs > 0 ? spentMs / eligibleMs : null;
  const projectedEligible = eligibleMs + input.remainingMonthMs;
  const projectedBad = spentMs + input.recentBadFraction * input.remainingMonthMs;
  return {
    targetPercent,
    allowedMs,
    spentMs,
    spentObservedMs: tally.downMs,
    remainingMs: allowedMs - spentMs,
    spentFraction: allowedMs > 0 ? spentMs / allowedMs : null,
    burnRate: badFraction === null || errorAllowance <= 0 ? null : badFraction / errorAllowance,
    projectedAvailability:
      eligibleMs > 0 && projectedEligible > 0 ? 1 - projectedBad / projectedEligible : null,
    isMet: badFraction === null ? null : 1 - badFraction >= targetPercent / 100 - 1e-12,
  };
}

/**
 * Bad fraction over [now − windowMs, now): (down + unknown) ÷ (windowMs − maintenance). The
 * whole window is the denominator even before that much history exists, so a server seconds
 * old under-reports rather than pages on a short history.
 */
export function badFractionOver(input: Omit<TallyInput, "window">, windowMs: number): number {
  const window = { startMs: input.nowMs - windowMs, endMs: input.nowMs };
  const tally = tallyStates({ ...input, window });
  const eligible = windowMs - tally.maintenanceMs;
  return eligible > 0 ? (tally.downMs + tally.unknownMs) / eligible : 0;
}
