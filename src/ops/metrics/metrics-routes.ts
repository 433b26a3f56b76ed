/**
 * The metrics routes, as a Hono sub-app src/app mounts on the API (behind its auth):
 *   GET /metrics                   Prometheus text exposition
 *   GET /v1/metrics                ?window=1m|5m|1h|start|24h…  &format=json|csv
 *   GET /v1/metrics/requests       the request log: ?limit=N &format=json|csv
 *   GET /v1/metrics/history        per-minute rollups: ?since=24h &format=json|csv
 *   GET /v1/metrics/warnings       active and recent performance warnings
 * Exports (the request log, the history, and /v1/metrics with an explicit `format`, as
 * `rawrxd metrics export` asks) are reported to `onExport`, so the audit log names the reader.
 */
import { Hono, type Context } from "hono";
import { AppError } from "../../core/index.js";
import type { MetricsCollector } from "./metrics-collector.js";
import {
  requestsCsv,
  requestsJson,
  rollupsCsv,
  rollupsJson,
  snapshotCsv,
  snapshotJson,
  warningJson,
} from "./metrics-export.js";

type Format = "json" | "csv";

export interface MetricsExport {
  /** The route path, e.g. /v1/metrics/requests. */
  route: string;
  context: Context;
  details: Record<string, unknown>;
}

export interface MetricsRoutesOptions {
  /** Called once per answered export. */
  onExport?: (read: MetricsExport) => void;
}

export function createMetricsRoutes(collector: MetricsCollector, options: MetricsRoutesOptions = {}): Hono {
  const app = new Hono();
  const exported = (context: Context, details: Record<string, unknown>): void =>
    options.onExport?.({
      route: context.req.path,
      context,
      details: { format: formatOf(context), ...details },
    });
  app.get("/metrics", async (context) =>
    context.body(await collector.prometheusText(), 200, { "Content-Type": collector.prometheus.contentType }),
  );
  app.get("/v1/metrics", (context) => {
    const window = context.req.query("window") ?? "5m";
    const snapshot = collector.snapshot(window);
    if (context.req.query("format") !== undefined) exported(context, { window });
    return formatOf(context) === "csv"
      ? csv(context, snapshotCsv(snapshot), `rawrxd-metrics-${window}`)
      : context.json(snapshotJson(snapshot));
  });
  app.get("/v1/metrics/requests", (context) => {
    const records = collector.requests(limitOf(context));
    exported(context, { rows: records.length });
    return formatOf(context) === "csv"
      ? csv(context, requestsCsv(records), "rawrxd-requests")
      : context.json({ requests: requestsJson(records) });
  });
  app.get("/v1/metrics/history", (context) => {
    const since = context.req.query("since") ?? "1h";
    const rows = collector.history(since);
    exported(context, { since, rows: rows.length });
    return formatOf(context) === "csv"
      ? csv(context, rollupsCsv(rows), `rawrxd-history-${since}`)
      : context.json({ since, minutes: rollupsJson(rows) });
  });
  app.get("/v1/metrics/warnings", (context) => {
    const { active, recent } = collector.warnings();
    return context.json({ active: active.map(warningJson), recent: recent.map(warningJson) });
  });
  return app;
}

function formatOf(context: Context): Format {
  const format = context.req.query("format") ?? "json";
  if (format !== "json" && format !== "csv")
    throw new AppError("bad-request", `format must be json or csv; got "${format}".`, { param: "format" });
  return format;
}

function limitOf(context: Context): number | undefined {
  const raw = context.req.query("limit");
  if (raw === undefined) return undefined;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1)
    throw new AppError("bad-request", `limit must be a positive integer; got "${raw}".`, { param: "limit" });
  return limit;
}

function csv(context: Context, body: string, name: string): Response {
  return context.body(body, 200, {
    "Content-Type": "text/csv; charset=utf-8; header=present",
    "Content-Disposition": `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}.csv"`,
  });
}
