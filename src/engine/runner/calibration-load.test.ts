import { describe, expect, it } from "vitest";
import { otherLoadCores, parseProcStat, readCpuSnapshot } from "./calibration-load.js";

describe("calibration under visible load", () => {
  it("counts busy ticks from /proc/stat's first line, steal included, idle and iowait not", () => {
    expect(parseProcStat("cpu  100 5 50 9000 40 3 2 7 0 0\ncpu0 1 2 3\n")).toBe(100 + 5 + 50 + 3 + 2 + 7);
    expect(parseProcStat("intr 1 2 3")).toBeUndefined();
  });

  it("subtracts this process's own CPU time from all CPUs' busy time", () => {
    const before = { busyTicks: 1000, ownCpuMs: 500, atMs: 0 };
    // 2 s: 300 ticks (3 s of CPU) busy, 2 s of it ours: others used 0.5 cores.
    expect(otherLoadCores(before, { busyTicks: 1300, ownCpuMs: 2500, atMs: 2000 })).toBeCloseTo(0.5);
    // Only ourselves: nothing else visible (never below 0).
    expect(otherLoadCores(before, { busyTicks: 1150, ownCpuMs: 2500, atMs: 2000 })).toBe(0);
  });

  it("reads a snapshot on Linux", () => {
    const snapshot = readCpuSnapshot();
    if (process.platform !== "linux") return;
    expect(snapshot?.busyTicks).toBeGreaterThan(0);
    expect(snapshot?.ownCpuMs).toBeGreaterThan(0);
  });
});
