import { describe, expect, it } from "vitest";
import {
  assessLoad,
  assessLoadNow,
  fixedLoadProbe,
  quietWindowMs,
  readProcLoad,
  type LoadReading,
} from "./load-check.js";

function reading(overrides: Partial<LoadReading> = {}): LoadReading {
  return {
    loadAverage1: 0,
    totalTicks: 0,
    idleTicks: 0,
    iowaitTicks: 0,
    stealTicks: 0,
    ownTicks: 0,
    ...overrides,
  };
}

describe("load check before a thread calibration", () => {
  it("one reading: the load average beyond this runner against half the cores", () => {
    expect(assessLoad({ before: reading({ loadAverage1: 1.9 }), cores: 2, inFlight: 0 }).isQuiet).toBe(true);
    const busy = assessLoad({ before: reading({ loadAverage1: 2.5 }), cores: 2, inFlight: 0 });
    expect(busy).toMatchObject({ isQuiet: false, reason: "load average 2.5 on 2 cores" });
  });

  it("two readings: other processes' ticks (this process's own not counted), steal and iowait", () => {
    const before = reading({ loadAverage1: 3 });
    // 2 cores × 100 ticks: this process took 150, idle 50: nobody else ran.
    const quiet = assessLoad({
      before,
      after: reading({ loadAverage1: 3, totalTicks: 200, idleTicks: 50, ownTicks: 150 }),
      cores: 2,
      inFlight: 0,
    });
    expect(quiet).toMatchObject({ isQuiet: true, conditions: { otherBusyCores: 0, stealPercent: 0 } });
    const others = assessLoad({
      before,
      after: reading({ totalTicks: 200, idleTicks: 0, ownTicks: 100 }),
      cores: 2,
      inFlight: 0,
    });
    expect(others).toMatchObject({ isQuiet: false, reason: "other processes kept 1 of 2 cores busy" });
    const steal = assessLoad({
      before,
      after: reading({ totalTicks: 200, idleTicks: 80, stealTicks: 20, ownTicks: 100 }),
      cores: 2,
      inFlight: 0,
    });
    expect(steal.reason).toBe("steal 10 %");
    const iowait = assessLoad({
      before,
      after: reading({ totalTicks: 200, idleTicks: 60, iowaitTicks: 40, ownTicks: 100 }),
      cores: 2,
      inFlight: 0,
    });
    expect(iowait.reason).toBe("iowait 20 %");
  });

  it("generations in flight make it busy, even where /proc cannot be read", () => {
    expect(assessLoad({ before: undefined, cores: 2, inFlight: 1 }).isQuiet).toBe(false);
    expect(assessLoad({ before: undefined, cores: 2, inFlight: 0 })).toEqual({
      isQuiet: true,
      reason: "",
      conditions: undefined,
    });
    expect(assessLoad({ before: reading(), cores: 2, inFlight: 2 }).reason).toBe("2 generation(s) in flight");
  });

  it("fixed probes read as quiet and busy", () => {
    for (const kind of ["quiet", "busy"] as const) {
      const probe = fixedLoadProbe(kind, 2);
      const verdict = assessLoad({ before: probe(), after: probe(), cores: 2, inFlight: 0 });
      expect(verdict.isQuiet).toBe(kind === "quiet");
    }
  });

  it("reads /proc on Linux", () => {
    const value = readProcLoad();
    if (process.platform !== "linux") return expect(value).toBeUndefined();
    expect(value!.totalTicks).toBeGreaterThan(0);
    expect(value!.ownTicks).toBeGreaterThanOrEqual(0);
    expect(value!.loadAverage1).toBeGreaterThanOrEqual(0);
  });

  it("now: a load average left by work that has ended does not make a quiet machine busy", async () => {
    // The last minute was busy (load average 2.03 on 2 cores), the window itself is idle.
    const readings = [
      reading({ loadAverage1: 2.03, totalTicks: 1_000, idleTicks: 400 }),
      reading({ loadAverage1: 2.03, totalTicks: 1_050, idleTicks: 450 }),
    ];
    const slept: number[] = [];
    const quiet = await assessLoadNow({
      probe: () => readings.shift(),
      cores: 2,
      inFlight: () => 0,
      sleep: (delayMs) => {
        slept.push(delayMs);
        return Promise.resolve();
      },
    });
    expect(slept).toEqual([quietWindowMs]);
    expect(quiet.verdict).toMatchObject({
      isQuiet: true,
      conditions: { loadAverage1: 2.03, otherBusyCores: 0 },
    });
    expect(quiet.reading?.totalTicks).toBe(1_050);
    // The same load average with another process on a core during the window is busy.
    const busyReadings = [
      reading({ loadAverage1: 2.03 }),
      reading({ loadAverage1: 2.03, totalTicks: 50, idleTicks: 25 }),
    ];
    const busy = await assessLoadNow({
      probe: () => busyReadings.shift(),
      cores: 2,
      inFlight: () => 0,
      sleep: () => Promise.resolve(),
    });
    expect(busy.verdict).toMatchObject({ isQuiet: false, reason: "other processes kept 1 of 2 cores busy" });
    // Without /proc there is nothing to wait for: quiet unless generations are in flight.
    const unknown = await assessLoadNow({
      probe: () => undefined,
      cores: 2,
      inFlight: () => 1,
      sleep: () => Promise.reject(new Error("no wait")),
    });
    expect(unknown.verdict.isQuiet).toBe(false);
  });
});
