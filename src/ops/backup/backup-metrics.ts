/**
 * Backup gauges for /metrics, fed by the backup events: last success time, duration and stored
 * size per kind, and counters of failures and missed slots. Registered on the metrics registry.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { EventBus } from "../../core/index.js";

const metricNames = [
  "rawrxd_backup_last_success_timestamp_seconds",
  "rawrxd_backup_last_duration_seconds",
  "rawrxd_backup_last_stored_bytes",
  "rawrxd_backup_failures_total",
  "rawrxd_backup_missed_total",
] as const;

export function registerBackupMetrics(registry: Registry, events: EventBus): () => void {
  const registers = [registry];
  const lastSuccess = new Gauge({
    name: metricNames[0],
    help: "Unix time of the last backup of each kind that succeeded.",
    labelNames: ["kind"],
    registers,
  });
  const duration = new Gauge({
    name: metricNames[1],
    help: "How long the last successful backup of each kind took.",
    labelNames: ["kind"],
    registers,
  });
  const stored = new Gauge({
    name: metricNames[2],
    help: "Bytes the last successful backup of each kind added to the chunk store.",
    labelNames: ["kind"],
    registers,
  });
  const failures = new Counter({
    name: metricNames[3],
    help: "Backups that failed, by kind.",
    labelNames: ["kind"],
    registers,
  });
  const missed = new Counter({
    name: metricNames[4],
    help: "Scheduled backups that did not run when due, by kind.",
    labelNames: ["kind"],
    registers,
  });
  const unsubscribe = [
    events.on("backup-end", (event) => {
      if (!event.ok) {
        failures.inc({ kind: event.kind });
        return;
      }
      lastSuccess.set({ kind: event.kind }, wallSecondsOfId(event.id));
      duration.set({ kind: event.kind }, event.durationMs / 1000);
      stored.set({ kind: event.kind }, event.storedBytes);
    }),
    events.on("backup-missed", (event) => missed.inc({ kind: event.kind })),
  ];
  return () => {
    for (const stop of unsubscribe) stop();
    for (const name of metricNames) registry.removeSingleMetric(name);
  };
}

/** Backup ids start with their UTC creation time (`20261201T081500Z-…`). */
function wallSecondsOfId(id: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  if (match === null) return 0;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  return Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second) / 1000;
}
