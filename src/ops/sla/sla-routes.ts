/**
 * The SLA routes, as a Hono sub-app src/app mounts behind the API's auth (admin-only once keys
 * exist: none is in the user route list):
 *   GET /v1/sla/status                         state, checks, open incident, budget now (and,
 *                                              when clustered, `cluster`: see cluster-sla.ts)
 *   GET /v1/sla/incidents?limit=50&offset=0    newest first, with the total for paging
 *   GET /v1/sla/report?month=YYYY-MM&format=json|csv
 */
import { Hono, type Context } from "hono";
import { AppError } from "../../core/index.js";
import type { ClusterSlaJson } from "./cluster-sla-json.js";
import { monthOf, monthWindow } from "./sla-arithmetic.js";
import { reportCsv, type SlaReport } from "./sla-report.js";
import type { Incident } from "./sla-store.js";
import type { SlaStatus } from "./sla-status.js";

export interface SlaRouteSource {
  status(): SlaStatus;
  incidents(page: { limit: number; offset: number }): { total: number; incidents: Incident[] };
  report(month: string): SlaReport;
  nowMs(): number;
  /** The cluster section, only when the server runs clustered (undefined before its first tick). */
  cluster?: () => ClusterSlaJson | undefined;
}

export function createSlaRoutes(source: SlaRouteSource): Hono {
  const app = new Hono();
  app.get("/v1/sla/status", (context) => {
    const cluster = source.cluster?.();
    return context.json(cluster === undefined ? source.status() : { ...source.status(), cluster });
  });
  app.get("/v1/sla/incidents", (context) => {
    const limit = integerOf(context, { name: "limit", fallback: 50, min: 1 });
    const offset = integerOf(context, { name: "offset", fallback: 0, min: 0 });
    const page = source.incidents({ limit: Math.min(limit, 1000), offset });
    return context.json({ total: page.total, limit, offset, incidents: page.incidents.map(incidentJson) });
  });
  app.get("/v1/sla/report", (context) => {
    const month = context.req.query("month") ?? monthOf(source.nowMs());
    if (monthWindow(month) === undefined)
      throw new AppError("bad-request", `month must be YYYY-MM (e.g. 2026-04); got "${month}".`, {
        param: "month",
      });
    const format = context.req.query("format") ?? "json";
    if (format !== "json" && format !== "csv")
      throw new AppError("bad-request", `format must be json or csv; got "${format}".`, { param: "format" });
    const report = source.report(month);
    if (format === "json") return context.json(report);
    return context.body(reportCsv(report), 200, {
      "Content-Type": "text/csv; charset=utf-8; header=present",
      "Content-Disposition": `attachment; filename="rawrxd-sla-${month}.csv"`,
    });
  });
  return app;
}

export function incidentJson(incident: Incident): Record<string, unknown> {
  return {
    id: incident.id,
    start: new Date(incident.startMs).toISOString(),
    end: incident.endMs === undefined ? null : new Date(incident.endMs).toISOString(),
    worstState: incident.worstState,
    cause: incident.cause,
    requestsFailed: incident.requestsFailed,
    requestsRejected: incident.requestsRejected,
  };
}

function integerOf(context: Context, spec: { name: string; fallback: number; min: number }): number {
  const raw = context.req.query(spec.name);
  if (raw === undefined) return spec.fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < spec.min)
    throw new AppError("bad-request", `${spec.name} must be an integer ≥ ${spec.min}; got "${raw}".`, {
      param: spec.name,
    });
  return value;
}
