import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../core/index.js";
import { Database } from "../../store/index.js";
import { buildReport } from "./sla-report.js";
import { createSlaRoutes } from "./sla-routes.js";
import { SlaStore } from "./sla-store.js";
import type { SlaStatus } from "./sla-status.js";

const databases: Database[] = [];
afterEach(() => {
  for (const database of databases.splice(0)) database.close();
});

function routes() {
  const database = Database.open({ path: ":memory:" });
  databases.push(database);
  const store = new SlaStore(database);
  const base = Date.UTC(2026, 3, 1);
  for (let index = 0; index < 5; index += 1)
    store.addClosedIncident({
      startMs: base + index * 60_000,
      endMs: base + index * 60_000 + 10_000,
      worstState: "degraded",
      cause: [`runner:m${index} (fail): runner crashed`],
    });
  const nowMs = base + 3_600_000;
  const app = createSlaRoutes({
    status: () => ({ state: "up" }) as SlaStatus,
    incidents: (page) => store.incidents(page),
    report: (month) => buildReport({ database, month, targetPercent: 99.9, nowMs }),
    nowMs: () => nowMs,
  });
  // What the API's error handler does with AppError, in short.
  app.onError((error, context) =>
    context.json({ error: error.message }, error instanceof AppError ? 400 : 500),
  );
  return app;
}

describe("SLA routes", () => {
  it("pages incidents newest first with the total", async () => {
    const app = routes();
    const first = (await (await app.request("/v1/sla/incidents?limit=2")).json()) as {
      total: number;
      incidents: { id: number; start: string; end: string; cause: string[] }[];
    };
    expect(first.total).toBe(5);
    expect(first.incidents.map((incident) => incident.id)).toEqual([5, 4]);
    const last = (await (await app.request("/v1/sla/incidents?limit=2&offset=4")).json()) as {
      incidents: { id: number; start: string; end: string }[];
    };
    expect(last.incidents).toEqual([
      expect.objectContaining({ id: 1, start: "2026-04-01T00:00:00.000Z", end: "2026-04-01T00:00:10.000Z" }),
    ]);
    expect((await app.request("/v1/sla/incidents?limit=0")).status).toBe(400);
    expect((await app.request("/v1/sla/incidents?offset=-1")).status).toBe(400);
  });

  it("reports the current month by default, CSV on request, and refuses what is not a month", async () => {
    const app = routes();
    const report = (await (await app.request("/v1/sla/report")).json()) as {
      month: string;
      incidents: unknown[];
    };
    expect(report.month).toBe("2026-04");
    expect(report.incidents).toHaveLength(5);
    const csv = await app.request("/v1/sla/report?month=2026-04&format=csv");
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const text = await csv.text();
    expect(text.split("\n")[0]).toBe("field,value");
    expect(text).toContain("incident_id,start,end");
    expect((await app.request("/v1/sla/report?month=April")).status).toBe(400);
    expect((await app.request("/v1/sla/report?format=xml")).status).toBe(400);
  });
});
