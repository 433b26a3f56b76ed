/** bench:speculative's rows: one per model, threads, workload and variant, paired with "off" per round. */
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

export interface Row {
  model: string;
  threads: number;
  workload: string;
  variant: string;
  tokPerSecond: number[];
  /** CPU ms per request, per round (direct: this process; server: runner + main). */
  cpuMs: number[];
  drafted: number;
  accepted: number;
  identical: boolean;
}

export interface Measurement {
  rate: number;
  cpuMs: number;
  drafted: number;
  accepted: number;
  /** Greedy text identical to "off"'s of the same round. */
  identical: boolean;
}

/** Adds one round's measurement to its row (created on first use). */
export function record(
  rows: Row[],
  key: { model: string; threads: number; workload: string; variant: string },
  measurement: Measurement,
): void {
  let row = rows.find(
    (candidate) =>
      candidate.model === key.model &&
      candidate.threads === key.threads &&
      candidate.workload === key.workload &&
      candidate.variant === key.variant,
  );
  if (row === undefined) {
    row = { ...key, tokPerSecond: [], cpuMs: [], drafted: 0, accepted: 0, identical: true };
    rows.push(row);
  }
  row.tokPerSecond.push(measurement.rate);
  row.cpuMs.push(measurement.cpuMs);
  row.drafted += measurement.drafted;
  row.accepted += measurement.accepted;
  row.identical &&= measurement.identical;
}

export function formatRows(rows: readonly Row[]): string {
  const offRow = (row: Row): Row =>
    rows.find(
      (other) =>
        other.model === row.model &&
        other.threads === row.threads &&
        other.workload === row.workload &&
        other.variant === "off",
    )!;
  /** Median of the per-round ratios to "off" (paired: the same round). */
  const pairedRatio = (row: Row): number => {
    const off = offRow(row);
    return median(row.tokPerSecond.map((rate, index) => rate / off.tokPerSecond[index]!));
  };
  /** Median of the per-round ratios of "off"'s CPU time to this variant's (> 1: speculation costs less). */
  const cpuRatio = (row: Row): string => {
    const off = offRow(row);
    if (row.cpuMs.length === 0) return "–";
    return formatNumber(median(row.cpuMs.map((cpu, index) => off.cpuMs[index]! / cpu)), 2);
  };
  return formatTable(
    [
      "model",
      "threads",
      "workload",
      "speculation",
      "tok/s off",
      "tok/s (median)",
      "× off (paired)",
      "CPU: off ÷ this",
      "drafted",
      "accepted",
      "acceptance",
      "same text",
    ],
    rows.map((row) => [
      row.model,
      String(row.threads),
      row.workload,
      row.variant,
      formatNumber(median(offRow(row).tokPerSecond), 0),
      formatNumber(median(row.tokPerSecond), 0),
      formatNumber(pairedRatio(row), 2),
      cpuRatio(row),
      String(row.drafted),
      String(row.accepted),
      row.drafted === 0 ? "–" : formatNumber(row.accepted / row.drafted, 2),
      row.identical ? "yes" : "NO",
    ]),
  );
}
