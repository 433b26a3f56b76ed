/**
 * Optional latency SLOs (`--slo-ttft-p95 high=500ms,normal=2s`): the time-to-first-token p95 per
 * priority over a window, from the metrics request log in rawrxd.db. The log keeps only the
 * last --metrics-request-log requests, so a month's figure covers those still in it
 * (`requests` says how many).
 */
import type { Database } from "../../store/index.js";
import type { TimeWindow } from "./sla-arithmetic.js";

export interface LatencySlo {
  /** e.g. `ttft-p95-high`. */
  name: string;
  priority: string;
  quantile: number;
  thresholdMs: number;
}

export interface LatencySloResult extends LatencySlo {
  observedMs: number | null;
  requests: number;
  /** null with no requests. */
  isMet: boolean | null;
}

/** The --slo-ttft-p95 setting ({ high: 500 }) as objectives. */
export function ttftSlos(thresholds: Partial<Record<string, number>>): LatencySlo[] {
  return Object.entries(thresholds).flatMap(([priority, thresholdMs]) =>
    thresholdMs === undefined
      ? []
      : [{ name: `ttft-p95-${priority}`, priority, quantile: 0.95, thresholdMs }],
  );
}

export function latencySlosOf(
  database: Database,
  window: TimeWindow,
  slos: readonly LatencySlo[],
): LatencySloResult[] {
  return slos.map((slo) => {
    const values = (
      database.connection
        .prepare(
          "SELECT ttft_ms FROM request_log WHERE priority = ? AND ended_at >= ? AND ended_at < ? AND ttft_ms IS NOT NULL ORDER BY ttft_ms",
        )
        .all(slo.priority, window.startMs, window.endMs) as { ttft_ms: number }[]
    ).map((row) => row.ttft_ms);
    // Nearest rank: the smallest value with at least q of the values at or below it.
    const observedMs =
      values.length === 0 ? null : values[Math.max(0, Math.ceil(slo.quantile * values.length) - 1)]!;
    return {
      ...slo,
      observedMs,
      requests: values.length,
      isMet: observedMs === null ? null : observedMs <= slo.thresholdMs,
    };
  });
}
