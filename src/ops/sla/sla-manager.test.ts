import { afterEach, describe, expect, it } from "vitest";
import { FakeTime } from "../../core/index.js";
import { Database } from "../../store/index.js";
import type { SlaProbes } from "./health-checks.js";
import { buildReport } from "./sla-report.js";
import { startTestSlaManager } from "./sla-manager.testing.js";
import { SlaStore } from "./sla-store.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setUp(time: FakeTime, probes: SlaProbes, given?: Database) {
  return startTestSlaManager({ time, probes, cleanups, database: given });
}

describe("SlaManager", () => {
  it("records a server stopped for 10 minutes and restarted as 600 s unknown", async () => {
    const time = new FakeTime({ wallMs: Date.UTC(2026, 3, 1) });
    const database = Database.open({ path: ":memory:" });
    cleanups.push(() => database.close());
    const up: SlaProbes = { front: () => Promise.resolve() };
    const first = setUp(time, up, database);
    first.manager.start();
    await time.advanceAsync(60_000);
    await first.manager.close();
    // Stopped: nothing runs for 10 minutes.
    await time.advanceAsync(600_000);
    const second = setUp(time, up, database);
    second.manager.start();
    await time.advanceAsync(30_000);
    await second.manager.close();
    const report = buildReport({ database, month: "2026-04", targetPercent: 99.9, nowMs: time.wallNow() });
    // 60 s up, 600 s unknown, 30 s up: measured 690 s.
    expect(report.seconds).toMatchObject({ up: 90, unknown: 600, down: 0, measured: 690 });
    expect(report.coverage).toBeCloseTo(90 / 690, 12);
    expect(report.availability).toEqual({ observed: 1, conservative: 90 / 690 });
    expect(report.incidents).toMatchObject([
      {
        worstState: "unknown",
        durationSeconds: 600,
        cause: ["no heartbeat: the server (or its machine) was not running"],
      },
    ]);
  });

  it("opens no incident and sends no alert for a stop inside declared maintenance, and does for one outside", async () => {
    const start = Date.UTC(2026, 3, 1);
    const time = new FakeTime({ wallMs: start });
    const database = Database.open({ path: ":memory:" });
    cleanups.push(() => database.close());
    const up: SlaProbes = { front: () => Promise.resolve() };
    const store = new SlaStore(database);
    // A planned restart at 60 s, declared as two touching windows; the second stop is not declared.
    store.addMaintenance({
      startMs: start + 50_000,
      endMs: start + 300_000,
      reason: "upgrade",
      createdMs: start,
    });
    store.addMaintenance({
      startMs: start + 300_000,
      endMs: start + 700_000,
      reason: "upgrade",
      createdMs: start,
    });
    const run = async (ms: number) => {
      const server = setUp(time, up, database);
      server.manager.start();
      await time.advanceAsync(ms);
      await server.manager.close();
      return server;
    };
    await run(60_000);
    await time.advanceAsync(600_000); // stopped 60 s → 660 s: inside the windows
    const planned = await run(60_000);
    expect(planned.incidents).toEqual([]);
    expect(planned.alerts).toEqual([]);
    await time.advanceAsync(120_000); // stopped 720 s → 840 s: 0 s of it declared
    const unplanned = await run(30_000);
    expect(unplanned.incidents).toMatchObject([{ action: "closed", worstState: "unknown" }]);
    // The incident's resolved alert (a 2-minute gap also pages on the 1 h burn rate after it).
    expect(unplanned.alerts[0]).toMatchObject({
      alert: "incident:1",
      state: "resolved",
      severity: "warning",
    });
    const report = buildReport({ database, month: "2026-04", targetPercent: 99.9, nowMs: time.wallNow() });
    // The report leaves the declared 50 s → 700 s out: up 50 + 20 + 30 s, unknown only the
    // undeclared stop, which alone is an incident.
    expect(report.seconds).toMatchObject({ up: 100, unknown: 120 });
    expect(report.incidents).toMatchObject([{ worstState: "unknown", durationSeconds: 120 }]);
  });

  it("opens an incident naming the crashing model's runner check, counts its impact, closes it", async () => {
    const time = new FakeTime({ wallMs: Date.UTC(2026, 3, 1) });
    let isCrashing = true;
    const loaded = [
      { model: "alpha", pid: 1 },
      { model: "beta", pid: 2 },
    ];
    const { manager, events, incidents, alerts, database } = setUp(time, {
      front: () => Promise.resolve(),
      loadedModels: () => loaded,
    });
    manager.start();
    const crashEveryRound = time.setInterval(() => {
      if (isCrashing) events.emit("runner-crashed", { model: "alpha", pid: 1, detail: "exit code 139" });
    }, 5_000);
    cleanups.push(() => crashEveryRound.cancel());
    await time.advanceAsync(10_000);
    expect(manager.status().state).toBe("degraded");
    events.emit("request-end", {
      requestId: "r1",
      model: "alpha",
      outcome: "error",
      promptTokens: 1,
      completionTokens: 0,
      totalMs: 5,
    });
    events.emit("request-end", {
      requestId: "r2",
      model: "alpha",
      outcome: "rejected",
      promptTokens: 1,
      completionTokens: 0,
      totalMs: 1,
    });
    await time.advanceAsync(20_000);
    isCrashing = false;
    await time.advanceAsync(20_000);
    expect(manager.status().state).toBe("up");
    expect(incidents.map((incident) => incident.action)).toEqual(["opened", "closed"]);
    expect(incidents[0]!.cause).toEqual(["runner:alpha (fail): runner crashed: exit code 139"]);
    const report = buildReport({ database, month: "2026-04", targetPercent: 99.9, nowMs: time.wallNow() });
    // Crashes at 5–30 s; rounds at 10–40 s see them (degraded), the round at 50 s does not.
    expect(report.incidents).toMatchObject([
      { worstState: "degraded", requestsFailed: 1, requestsRejected: 1, durationSeconds: 40 },
    ]);
    // Degraded counts as available: no budget spent, no burn-rate alert.
    expect(report.actualDowntimeSeconds.conservative).toBe(0);
    expect(alerts.map((alert) => `${alert.alert}:${alert.state}`)).toEqual([
      "incident:1:firing",
      "incident:1:resolved",
    ]);
  });

  it("pages on the 1 h burn rate once 51.84 s of a down hour have passed, not before", async () => {
    const time = new FakeTime({ wallMs: Date.UTC(2026, 3, 1) });
    let isFrontUp = true;
    const { manager, alerts } = setUp(time, {
      front: () => (isFrontUp ? Promise.resolve() : Promise.reject(new Error("connection refused"))),
    });
    manager.start();
    await time.advanceAsync(2 * 3_600_000);
    isFrontUp = false;
    // Down is recorded from the round that sees it (t = 10 s); 51.84 s of down hits at t = 70 s.
    await time.advanceAsync(60_000);
    expect(alerts.filter((alert) => alert.alert.startsWith("burn-rate"))).toEqual([]);
    await time.advanceAsync(10_000);
    expect(alerts.filter((alert) => alert.alert.startsWith("burn-rate")).map((alert) => alert.alert)).toEqual(
      ["burn-rate:page-1h"],
    );
    expect(manager.status()).toMatchObject({ state: "down", firingAlerts: ["page-1h"] });
    expect(alerts[0]).toMatchObject({ alert: "incident:1", severity: "page", state: "firing" });
  });

  it("records a stall (the machine slept, the loop froze) as unknown, not as the state before it", async () => {
    const time = new FakeTime({ wallMs: Date.UTC(2026, 3, 1) });
    const database = Database.open({ path: ":memory:" });
    cleanups.push(() => database.close());
    const { manager } = setUp(time, { front: () => Promise.resolve() }, database);
    manager.start();
    await time.advanceAsync(30_000);
    // No round for 120 s of wall time (more than 3 intervals), then rounds resume.
    time.setWall(time.wallNow() + 120_000);
    await time.advanceAsync(10_000);
    await manager.close();
    const report = buildReport({ database, month: "2026-04", targetPercent: 99.9, nowMs: time.wallNow() });
    // 30 s up, then the round at +160 s finds its heartbeat 130 s old: unknown, then up again.
    expect(report.seconds).toMatchObject({ up: 30, unknown: 130, measured: 160 });
  });
});
