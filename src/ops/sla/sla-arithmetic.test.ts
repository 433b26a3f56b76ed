import { describe, expect, it } from "vitest";
import {
  allowedDowntimeMs,
  availabilityOf,
  badFractionOver,
  errorBudgetOf,
  monthOf,
  monthWindow,
  tallyStates,
  type StateInterval,
} from "./sla-arithmetic.js";

const at = (iso: string): number => Date.parse(iso);
const seconds = (ms: number): number => Math.round(ms) / 1000;

describe("allowed downtime per calendar month", () => {
  // (1 − target) × days × 86 400 s, by hand.
  it.each([
    ["2026-04", 99.99, 30, 259.2], // 0.0001 × 2 592 000
    ["2026-05", 99.99, 31, 267.84], // 0.0001 × 2 678 400
    ["2026-02", 99.99, 28, 241.92], // 0.0001 × 2 419 200
    ["2028-02", 99.99, 29, 250.56], // leap year: 0.0001 × 2 505 600
    ["2026-04", 99.9, 30, 2592], // 43.2 min
    ["2026-05", 99.9, 31, 2678.4], // 44.64 min
  ] as const)("%s at %d %% (%d days) allows %d s", (...row) => {
    const [month, target, days, expected] = row;
    const window = monthWindow(month)!;
    expect(window.endMs - window.startMs).toBe(days * 86_400_000);
    expect(seconds(allowedDowntimeMs(target, window.endMs - window.startMs))).toBeCloseTo(expected, 6);
  });

  it("reads months and rejects what is not one", () => {
    expect(monthOf(at("2026-12-31T23:59:59Z"))).toBe("2026-12");
    expect(monthWindow("2026-13")).toBeUndefined();
    expect(monthWindow("2026-1")).toBeUndefined();
    expect(monthWindow("2026-12")!.endMs).toBe(at("2027-01-01T00:00:00Z"));
  });
});

describe("a simulated April (30 days) with outages, a gap and maintenance", () => {
  const intervals: StateInterval[] = [
    { startMs: at("2026-04-01T00:00:00Z"), endMs: at("2026-04-10T10:00:00Z"), state: "up" },
    { startMs: at("2026-04-10T10:00:00Z"), endMs: at("2026-04-10T10:20:00Z"), state: "down" }, // 1200 s
    { startMs: at("2026-04-10T10:20:00Z"), endMs: at("2026-04-12T00:00:00Z"), state: "up" },
    { startMs: at("2026-04-12T00:00:00Z"), endMs: at("2026-04-12T01:00:00Z"), state: "degraded" }, // 3600 s
    { startMs: at("2026-04-12T01:00:00Z"), endMs: at("2026-04-20T03:00:00Z"), state: "up" },
    { startMs: at("2026-04-20T03:00:00Z"), endMs: at("2026-04-20T03:10:00Z"), state: "unknown" }, // 600 s
    { startMs: at("2026-04-20T03:10:00Z"), endMs: at("2026-04-25T02:00:00Z"), state: "up" },
    // Down inside the declared window: maintenance, not downtime.
    { startMs: at("2026-04-25T02:00:00Z"), endMs: at("2026-04-25T02:30:00Z"), state: "down" },
    { startMs: at("2026-04-25T02:30:00Z"), endMs: at("2026-05-01T00:00:00Z"), state: "up" },
  ];
  const maintenance = [{ startMs: at("2026-04-25T02:00:00Z"), endMs: at("2026-04-25T03:00:00Z") }];
  const window = monthWindow("2026-04")!;
  const tally = tallyStates({
    intervals,
    maintenance,
    window,
    monitoringStartMs: window.startMs,
    nowMs: at("2026-05-02T00:00:00Z"),
  });

  it("tallies each state, time-weighted", () => {
    // Month 2 592 000 s; maintenance 3600; down 1200; unknown 600; degraded 3600;
    // up = 2 592 000 − 3600 − 1200 − 600 − 3600 = 2 583 000.
    expect(seconds(tally.windowMs)).toBe(2_592_000);
    expect(seconds(tally.maintenanceMs)).toBe(3600);
    expect(seconds(tally.downMs)).toBe(1200);
    expect(seconds(tally.unknownMs)).toBe(600);
    expect(seconds(tally.degradedMs)).toBe(3600);
    expect(seconds(tally.upMs)).toBe(2_583_000);
    expect(tally.notMonitoredMs).toBe(0);
  });

  it("gives both availability figures and coverage", () => {
    const availability = availabilityOf(tally);
    // observed = (2 583 000 + 3600) / (2 583 000 + 3600 + 1200) = 2 586 600 / 2 587 800
    expect(availability.observed).toBeCloseTo(2_586_600 / 2_587_800, 12);
    // conservative = 2 586 600 / (2 592 000 − 3600) = 2 586 600 / 2 588 400
    expect(availability.conservative).toBeCloseTo(2_586_600 / 2_588_400, 12);
    expect(availability.conservative).toBeCloseTo(0.9993046, 7);
    // coverage = (2 592 000 − 600) / 2 592 000
    expect(availability.coverage).toBeCloseTo(2_591_400 / 2_592_000, 12);
  });

  it("gives the error budget at 99.9 %", () => {
    const budget = errorBudgetOf({
      targetPercent: 99.9,
      tally,
      monthMs: tally.windowMs,
      remainingMonthMs: 0,
      recentBadFraction: 0,
    });
    // allowed = 0.001 × (2 592 000 − 3600) = 2588.4 s; spent = down 1200 + unknown 600 = 1800 s
    expect(seconds(budget.allowedMs)).toBeCloseTo(2588.4, 6);
    expect(seconds(budget.spentMs)).toBe(1800);
    expect(seconds(budget.spentObservedMs)).toBe(1200);
    expect(seconds(budget.remainingMs)).toBeCloseTo(788.4, 6);
    expect(budget.spentFraction).toBeCloseTo(1800 / 2588.4, 12);
    // burn = (1800 / 2 588 400) / 0.001
    expect(budget.burnRate).toBeCloseTo(1800 / 2_588_400 / 0.001, 9);
    expect(budget.isMet).toBe(true);
    expect(budget.projectedAvailability).toBeCloseTo(1 - 1800 / 2_588_400, 12);
  });

  it("misses 99.99 % with the same month", () => {
    const budget = errorBudgetOf({
      targetPercent: 99.99,
      tally,
      monthMs: tally.windowMs,
      remainingMonthMs: 0,
      recentBadFraction: 0,
    });
    // allowed = 0.0001 × 2 588 400 = 258.84 s < 1800 s spent
    expect(seconds(budget.allowedMs)).toBeCloseTo(258.84, 6);
    expect(seconds(budget.remainingMs)).toBeCloseTo(258.84 - 1800, 6);
    expect(budget.isMet).toBe(false);
  });
});

describe("month boundaries (UTC)", () => {
  it("splits an outage across midnight on the last day between the two months", () => {
    const intervals: StateInterval[] = [
      { startMs: at("2026-01-31T23:00:00Z"), endMs: at("2026-01-31T23:55:00Z"), state: "up" },
      { startMs: at("2026-01-31T23:55:00Z"), endMs: at("2026-02-01T00:05:00Z"), state: "down" },
      { startMs: at("2026-02-01T00:05:00Z"), endMs: at("2026-02-01T01:00:00Z"), state: "up" },
    ];
    const common = {
      intervals,
      maintenance: [],
      monitoringStartMs: at("2026-01-31T23:00:00Z"),
      nowMs: at("2026-02-01T01:00:00Z"),
    };
    const january = tallyStates({ ...common, window: monthWindow("2026-01")! });
    const february = tallyStates({ ...common, window: monthWindow("2026-02")! });
    expect(seconds(january.downMs)).toBe(300);
    expect(seconds(february.downMs)).toBe(300);
    // January: monitored from 23:00 on the 31st: 3600 s measured, the rest not monitored.
    expect(seconds(january.measuredMs)).toBe(3600);
    expect(seconds(january.notMonitoredMs)).toBe(31 * 86_400 - 3600);
    // February so far: 00:00–01:00 measured; after "now" not yet.
    expect(seconds(february.measuredMs)).toBe(3600);
    expect(availabilityOf(february).conservative).toBeCloseTo(3300 / 3600, 12);
  });

  it("says nothing (null), never 100 %, for a month with no data", () => {
    const window = monthWindow("2025-11")!;
    const tally = tallyStates({
      intervals: [],
      maintenance: [],
      window,
      monitoringStartMs: undefined,
      nowMs: at("2026-02-01T00:00:00Z"),
    });
    expect(tally.measuredMs).toBe(0);
    expect(availabilityOf(tally)).toEqual({ observed: null, conservative: null, coverage: null });
    const budget = errorBudgetOf({
      targetPercent: 99.9,
      tally,
      monthMs: tally.windowMs,
      remainingMonthMs: 0,
      recentBadFraction: 0,
    });
    expect(budget.isMet).toBeNull();
    expect(budget.burnRate).toBeNull();
  });

  it("counts uncovered time after monitoring started as unknown", () => {
    const intervals: StateInterval[] = [
      { startMs: at("2026-03-01T00:00:00Z"), endMs: at("2026-03-01T01:00:00Z"), state: "up" },
      { startMs: at("2026-03-01T01:10:00Z"), endMs: at("2026-03-01T02:00:00Z"), state: "up" },
    ];
    const tally = tallyStates({
      intervals,
      maintenance: [],
      window: monthWindow("2026-03")!,
      monitoringStartMs: at("2026-03-01T00:00:00Z"),
      nowMs: at("2026-03-01T02:00:00Z"),
    });
    expect(seconds(tally.unknownMs)).toBe(600);
    const availability = availabilityOf(tally);
    expect(availability.observed).toBe(1);
    expect(availability.conservative).toBeCloseTo(6600 / 7200, 12);
  });
});

describe("burn windows", () => {
  it("uses the whole window as denominator, minus maintenance", () => {
    const now = at("2026-06-01T12:00:00Z");
    const intervals: StateInterval[] = [
      { startMs: now - 3_600_000, endMs: now - 60_000, state: "up" },
      { startMs: now - 60_000, endMs: now, state: "down" },
    ];
    const input = { intervals, maintenance: [], monitoringStartMs: now - 3_600_000, nowMs: now };
    expect(badFractionOver(input, 3_600_000)).toBeCloseTo(60 / 3600, 12);
    expect(badFractionOver(input, 300_000)).toBeCloseTo(60 / 300, 12);
    // Only 2 minutes of history: 1 minute down still reads as 60 s of a 1 h window.
    const young = { ...input, monitoringStartMs: now - 120_000 };
    expect(badFractionOver(young, 3_600_000)).toBeCloseTo(60 / 3600, 12);
  });
});
