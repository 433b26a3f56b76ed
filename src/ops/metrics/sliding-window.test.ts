import { describe, expect, it } from "vitest";
import type { WallMs } from "../../core/index.js";
import type { MetricValues, RequestRecord } from "./request-record.js";
import { SlidingWindow, type WindowSlot } from "./sliding-window.js";

const record = {
  outcome: "stop",
  promptTokens: 1,
  completionTokens: 2,
  cachedTokens: 0,
  errorCode: undefined,
} as RequestRecord;

/** Wall-clock readings as the collector would take them. */
const wall = (ms: number): WallMs => ms as WallMs;

function add(window: SlidingWindow, atMs: number, seriesKey = "alpha"): boolean {
  return window.add({ atMs: wall(atMs), seriesKey, record, values: { queue_ms: atMs } as MetricValues });
}

describe("SlidingWindow", () => {
  it("covers the last window to within one slot, on a fake clock", () => {
    const window = new SlidingWindow(60_000);
    expect(window.slotMs).toBe(1000);
    add(window, 0);
    add(window, 30_500);
    add(window, 59_999);
    const count = (nowMs: number) => window.collect(wall(nowMs)).get("alpha")?.requests ?? 0;
    expect(count(59_999)).toBe(3);
    // At 60 s the window is [1 s, 60 s]: t=0 has left. A record leaves between 59 and 60 s after it.
    expect(count(60_000)).toBe(2);
    expect(count(89_999)).toBe(2);
    expect(count(90_000)).toBe(1);
    expect(count(118_999)).toBe(1);
    expect(count(119_000)).toBe(0);
    expect(window.startMs(wall(120_000))).toBe(61_000);
  });

  it("merges series across slots and drops records older than the ring", () => {
    const window = new SlidingWindow(60_000);
    add(window, 10_000, "alpha");
    add(window, 20_000, "alpha");
    add(window, 20_000, "beta");
    expect(window.collect(wall(25_000)).get("alpha")?.sketch("queue_ms")?.count).toBe(2);
    // The ring moved on past t=10 s's place (t=70 s reuses it): a late record for 10 s is dropped.
    expect(add(window, 70_000)).toBe(true);
    expect(add(window, 10_500)).toBe(false);
  });

  it("hands a dirty slot to onEvict before reusing its place", () => {
    const evicted: WindowSlot[] = [];
    const window = new SlidingWindow(3_600_000, (slot) => evicted.push(slot));
    add(window, 0);
    add(window, 3_600_000);
    expect(evicted.map((slot) => [slot.epoch, slot.isDirty])).toEqual([[0, true]]);
  });
});
