import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { SlaStore } from "../ops/index.js";
import { Database } from "../store/index.js";
import { main } from "./index.js";
import { createRecordingIo } from "./test-io.testing.js";

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

const at = (iso: string): number => Date.parse(iso);

function makeHome(): string {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-sla-cli-"));
  homes.push(home);
  return home;
}

async function sla(home: string, args: string[], time: FakeTime) {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home } });
  const code = await main(["sla", ...args], io, { time });
  return { code, stdout: io.output(), stderr: io.errors() };
}

/** February 2026 (28 days = 2 419 200 s), monitored all month. */
function recordFebruary(home: string): void {
  const database = Database.open({ path: join(home, "rawrxd.db") });
  const store = new SlaStore(database);
  const interval = (from: string, to: string, state: "up" | "degraded" | "down" | "unknown") =>
    store.appendInterval({ startMs: at(from), endMs: at(to), state });
  interval("2026-02-01T00:00:00Z", "2026-02-03T00:00:00Z", "up");
  interval("2026-02-03T00:00:00Z", "2026-02-03T00:03:00Z", "down"); // 180 s
  interval("2026-02-03T00:03:00Z", "2026-02-14T12:00:00Z", "up");
  interval("2026-02-14T12:00:00Z", "2026-02-14T12:01:40Z", "unknown"); // 100 s (server stopped)
  interval("2026-02-14T12:01:40Z", "2026-02-28T23:50:00Z", "up");
  interval("2026-02-28T23:50:00Z", "2026-03-01T00:10:00Z", "down"); // 600 s in February, 600 s in March
  interval("2026-03-01T00:10:00Z", "2026-03-01T01:00:00Z", "up");
  store.addClosedIncident({
    startMs: at("2026-02-28T23:50:00Z"),
    endMs: at("2026-03-01T00:10:00Z"),
    worstState: "down",
    cause: ["front (fail): GET /health answered HTTP 503"],
  });
  database.close();
}

describe("rawrxd sla", () => {
  it("report: a month's figures match the hand calculation", async () => {
    const home = makeHome();
    recordFebruary(home);
    const time = new FakeTime({ wallMs: at("2026-03-01T01:00:00Z") });
    const { code, stdout } = await sla(home, ["report", "--month", "2026-02", "--sla-target", "99.95"], time);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    // 28 d = 2 419 200 s; down 180 + 600 = 780 s; unknown 100 s; up = 2 419 200 − 880 = 2 418 320 s.
    expect(report.status).toBe("complete");
    expect(report.seconds).toEqual({
      month: 2_419_200,
      notMonitored: 0,
      measured: 2_419_200,
      up: 2_418_320,
      degraded: 0,
      down: 780,
      maintenance: 0,
      unknown: 100,
    });
    // 99.95 %: allowed = 0.0005 × 2 419 200 = 1209.6 s.
    expect(report.allowedDowntimeSeconds).toBeCloseTo(1209.6, 6);
    expect(report.actualDowntimeSeconds).toEqual({ observed: 780, conservative: 880 });
    expect(report.availability.observed).toBeCloseTo(2_418_320 / 2_419_100, 12);
    expect(report.availability.conservative).toBeCloseTo(2_418_320 / 2_419_200, 12);
    expect(report.coverage).toBeCloseTo(2_419_100 / 2_419_200, 12);
    expect(report.budget.remainingSeconds).toBeCloseTo(1209.6 - 880, 6);
    expect(report.isMet).toBe(true);
    // The incident across midnight on the 28th: 600 s of its 1200 s fall in February.
    expect(report.incidents).toMatchObject([
      { durationSeconds: 1200, secondsInMonth: 600, worstState: "down" },
    ]);
    const march = JSON.parse((await sla(home, ["report", "--month", "2026-03"], time)).stdout);
    expect(march.incidents).toMatchObject([{ secondsInMonth: 600 }]);
    expect(march.seconds.down).toBe(600);
  });

  it("report: says no data for a month without records, never 100 %", async () => {
    const home = makeHome();
    recordFebruary(home);
    const time = new FakeTime({ wallMs: at("2026-03-01T01:00:00Z") });
    const { code, stdout, stderr } = await sla(
      home,
      ["report", "--month", "2026-01", "--format", "csv"],
      time,
    );
    expect(code).toBe(0);
    expect(stdout).toContain("status,no-data");
    expect(stdout).toContain("availability_conservative,\n");
    expect(stderr).toContain("No SLA data for 2026-01");
  });

  it("maintenance: declares a window that the report then leaves out", async () => {
    const home = makeHome();
    recordFebruary(home);
    const time = new FakeTime({ wallMs: at("2026-03-01T01:00:00Z") });
    const declared = await sla(
      home,
      [
        "maintenance",
        "--start",
        "2026-02-03T00:00:00Z",
        "--end",
        "2026-02-03T00:05:00Z",
        "--reason",
        "upgrade",
      ],
      time,
    );
    expect(declared.code).toBe(0);
    expect(declared.stderr).toContain("declared after the fact");
    const report = JSON.parse((await sla(home, ["report", "--month", "2026-02"], time)).stdout);
    // The 180 s outage lies inside the 300 s window: down 600 s, maintenance 300 s.
    expect(report.seconds).toMatchObject({ down: 600, maintenance: 300, unknown: 100 });
    expect(report.maintenance).toMatchObject([{ reason: "upgrade", declaredAt: "2026-03-01T01:00:00.000Z" }]);
    const bad = await sla(
      home,
      ["maintenance", "--start", "now", "--end", "2020-01-01T00:00:00Z", "--reason", "x"],
      time,
    );
    expect(bad.code).toBe(2);
  });

  it("status: the newest heartbeat's state while fresh, else not running", async () => {
    const home = makeHome();
    recordFebruary(home);
    const fresh = new FakeTime({ wallMs: at("2026-03-01T01:00:10Z") });
    const running = JSON.parse((await sla(home, ["status"], fresh)).stdout);
    expect(running).toMatchObject({ isRunning: true, state: "up", month: "2026-03" });
    const later = new FakeTime({ wallMs: at("2026-03-01T02:00:00Z") });
    const stopped = JSON.parse((await sla(home, ["status"], later)).stdout);
    expect(stopped).toMatchObject({
      isRunning: false,
      state: "not-running",
      lastHeartbeat: "2026-03-01T01:00:00.000Z",
    });
  });
});
