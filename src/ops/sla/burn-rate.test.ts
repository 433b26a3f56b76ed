import { describe, expect, it } from "vitest";
import { BurnRateAlertState, readBurnRates } from "./burn-rate.js";
import { badFractionOver, type StateInterval } from "./sla-arithmetic.js";

const hourMs = 3_600_000;
const origin = Date.UTC(2026, 5, 1);

/** Up from `origin` with the given down stretches (ms offsets from the outage base). */
function timeline(downs: readonly [number, number][], base: number): StateInterval[] {
  const intervals: StateInterval[] = [];
  let cursor = origin;
  for (const [from, to] of downs) {
    intervals.push({ startMs: cursor, endMs: base + from, state: "up" });
    intervals.push({ startMs: base + from, endMs: base + to, state: "down" });
    cursor = base + to;
  }
  intervals.push({ startMs: cursor, endMs: base + 400 * hourMs, state: "up" });
  return intervals;
}

function firingAt(intervals: StateInterval[], nowMs: number, target: number): string[] {
  const readings = readBurnRates(
    (windowMs) => badFractionOver({ intervals, maintenance: [], monitoringStartMs: origin, nowMs }, windowMs),
    target,
  );
  return readings.filter((reading) => reading.isBreached).map((reading) => reading.rule.name);
}

describe("burn-rate rules at 99.9 % (allowance 0.001)", () => {
  // A continuous outage starting at `base` (4 days of up history before it).
  const base = origin + 96 * hourMs;
  const outage = timeline([[0, 10 * hourMs]], base);
  // page-1h: 14.4 × 0.001 × 3600 s = 51.84 s bad in 1 h (5 m: 4.32 s);
  // page-6h: 6 × 0.001 × 21 600 s = 129.6 s (30 m: 10.8 s);
  // ticket-3d: 1 × 0.001 × 259 200 s = 259.2 s (6 h: 21.6 s).
  it.each([
    [51, []],
    [52, ["page-1h"]],
    [129, ["page-1h"]],
    [130, ["page-1h", "page-6h"]],
    [259, ["page-1h", "page-6h"]],
    [260, ["page-1h", "page-6h", "ticket-3d"]],
  ] as const)("%d s into an outage fires %j", (secondsIn, expected) => {
    expect(firingAt(outage, base + secondsIn * 1000, 99.9)).toEqual(expected);
  });

  // A 60 s outage, then up again: the 5 m window holds ≥ 4.32 s of it until 295.68 s after its end.
  const blip = timeline([[0, 60_000]], base);
  it.each([
    [60, ["page-1h"]],
    [355, ["page-1h"]],
    [356, []],
  ] as const)("%d s after a 60 s outage began fires %j", (secondsIn, expected) => {
    expect(firingAt(blip, base + secondsIn * 1000, 99.9)).toEqual(expected);
  });

  it("does not page for a 10 s blip every hour (2.78×), but tickets once 259.2 s are spent in 3 days", () => {
    const downs: [number, number][] = [];
    for (let hour = 0; hour < 40; hour += 1) downs.push([hour * hourMs, hour * hourMs + 10_000]);
    const blips = timeline(downs, base);
    // After the 26th blip (hour 25): 260 s bad in 3 d ≥ 259.2 s, and 6 h holds 60 s ≥ 21.6 s.
    expect(firingAt(blips, base + 24 * hourMs + 10_000, 99.9)).toEqual([]);
    expect(firingAt(blips, base + 25 * hourMs + 10_000, 99.9)).toEqual(["ticket-3d"]);
    for (let minute = 0; minute < 40 * 60; minute += 7) {
      const firing = firingAt(blips, base + minute * 60_000, 99.9);
      expect(firing.filter((name) => name.startsWith("page"))).toEqual([]);
    }
  });
});

describe("alert state", () => {
  it("reports each rule firing once and resolving once", () => {
    const base = origin + 96 * hourMs;
    const intervals = timeline([[0, 120_000]], base);
    const state = new BurnRateAlertState();
    const seen: string[] = [];
    for (let second = 0; second <= 900; second += 10) {
      const readings = readBurnRates(
        (windowMs) =>
          badFractionOver(
            { intervals, maintenance: [], monitoringStartMs: origin, nowMs: base + second * 1000 },
            windowMs,
          ),
        99.9,
      );
      for (const transition of state.update(readings))
        seen.push(`${second}:${transition.reading.rule.name}:${transition.state}`);
    }
    // page-1h at 60 s (≥ 51.84); resolved when the 5 m window holds < 4.32 s: after 120 + 295.68 s.
    expect(seen).toEqual(["60:page-1h:firing", "420:page-1h:resolved"]);
    expect(state.firing).toEqual([]);
  });
});
