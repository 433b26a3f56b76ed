/**
 * The in-memory statistics: the live sliding windows (1m, 5m, 1h), the warning rules' own
 * window, and the since-start totals, all per model × priority. The 1 h window's minute slots
 * double as the per-minute rollups that are persisted.
 */
import { AppError, type WallMs } from "../../core/index.js";
import type { RollupRow } from "./metrics-history.js";
import { seriesKey, splitSeriesKey } from "./metrics-snapshot.js";
import { isPriority, metricValues, type MetricValues, type RequestRecord } from "./request-record.js";
import { statsAt, type SeriesStats } from "./series-stats.js";
import { SlidingWindow, type WindowSlot } from "./sliding-window.js";

export const liveWindows = { "1m": 60_000, "5m": 300_000, "1h": 3_600_000 } as const;
export type LiveWindowName = keyof typeof liveWindows;
export const minuteMs = 60_000;

export class MetricsWindows {
  readonly ruleWindow: SlidingWindow;
  readonly sinceStart = new Map<string, SeriesStats>();
  readonly #live: Record<LiveWindowName, SlidingWindow>;
  /** Minute slots the 1 h ring reused before they were persisted. */
  readonly #evictedMinutes: WindowSlot[] = [];
  readonly #isRuleWindowLive: boolean;

  constructor(options: { ruleWindowMs: number }) {
    this.#live = {
      "1m": new SlidingWindow(liveWindows["1m"]),
      "5m": new SlidingWindow(liveWindows["5m"]),
      "1h": new SlidingWindow(liveWindows["1h"], (slot) => {
        if (slot.isDirty) this.#evictedMinutes.push(slot);
      }),
    };
    // The warning rules' window is a live one when the lengths match (--warn-window 5m, the
    // default): the same records, kept once. Not the 1 h ring: it also holds restored history.
    const unseeded = [this.#live["1m"], this.#live["5m"]];
    this.ruleWindow =
      unseeded.find((window) => window.windowMs === options.ruleWindowMs) ??
      new SlidingWindow(options.ruleWindowMs);
    this.#isRuleWindowLive = unseeded.includes(this.ruleWindow);
  }

  /** Adds one finished request (its model already label-safe); returns its statistics. */
  add(record: RequestRecord): MetricValues {
    const values = metricValues(record);
    const key = seriesKey(record.model, record.priority);
    const entry = { atMs: record.endedAtMs, seriesKey: key, record, values };
    for (const window of Object.values(this.#live)) window.add(entry);
    if (!this.#isRuleWindowLive) this.ruleWindow.add(entry);
    statsAt(this.sinceStart, key).add(record, values);
    return values;
  }

  window(name: LiveWindowName): SlidingWindow {
    return this.#live[name];
  }

  /** Puts a stored rollup back into the 1 h window. */
  seedMinute(row: RollupRow): void {
    this.#live["1h"].seed(row.minuteMs / minuteMs, seriesKey(row.model, row.priority), row.stats);
  }

  /** The minute rollups within the last hour, since `sinceMs`. */
  minutes(nowMs: WallMs, sinceMs: WallMs): RollupRow[] {
    return this.#live["1h"]
      .liveSlots(nowMs)
      .filter((slot) => slot.epoch * minuteMs >= sinceMs)
      .flatMap(rollupRows);
  }

  /** Minute slots changed since they were last persisted: finished minutes, or all when final. */
  dirtyMinutes(nowMs: WallMs, options: { isFinal: boolean }): WindowSlot[] {
    const currentMinute = Math.floor(nowMs / minuteMs);
    return [...this.#evictedMinutes.splice(0), ...this.#live["1h"].liveSlots(nowMs)].filter(
      (slot) => slot.isDirty && (options.isFinal || slot.epoch < currentMinute),
    );
  }
}

/** The wall time a minute (floor(ms / minuteMs)) starts at. */
export function minuteStart(minute: number): WallMs {
  return (minute * minuteMs) as WallMs;
}

/** The start of the minute `timeMs` falls in. */
export function minuteFloor(timeMs: WallMs): WallMs {
  return minuteStart(Math.floor(timeMs / minuteMs));
}

export function rollupRows(slot: WindowSlot): RollupRow[] {
  return [...slot.series].map(([key, stats]) => {
    const { model, priority } = splitSeriesKey(key);
    return {
      minuteMs: minuteStart(slot.epoch),
      model,
      priority: isPriority(priority) ? priority : "normal",
      stats,
    };
  });
}

/** Merges rollup rows into one series per model × priority. */
export function mergeRollups(rows: readonly RollupRow[]): Map<string, SeriesStats> {
  const leaves = new Map<string, SeriesStats>();
  for (const row of rows) {
    statsAt(leaves, seriesKey(row.model, row.priority)).merge(row.stats);
  }
  return leaves;
}

const rangeUnitsMs: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90m", "24h", "7d": a history range of whole minutes, at least one. */
export function parseRange(text: string, param: "window" | "since"): number {
  const match = /^(\d{1,6})([mhd])$/.exec(text);
  const ms = match === null ? Number.NaN : Number(match[1]) * rangeUnitsMs[match[2]!]!;
  if (!(ms >= minuteMs)) {
    const expected =
      param === "window"
        ? "1m, 5m, 1h, start, or a history range such as 24h or 7d"
        : "a range such as 90m, 24h or 7d";
    throw new AppError("bad-request", `${param} must be ${expected}; got "${text}".`, { param });
  }
  return ms;
}
