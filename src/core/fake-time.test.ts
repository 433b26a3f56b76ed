import { describe, expect, it } from "vitest";
import { FakeTime } from "./fake-time.js";
import { addMonotonic, systemTime } from "./time.js";

describe("FakeTime", () => {
  it("fires timers in due order, moving the clock to each one's due time", () => {
    const time = new FakeTime();
    const fired: string[] = [];
    time.setTimeout(() => fired.push(`b@${time.monotonicNow()}`), 20);
    time.setTimeout(() => fired.push(`a@${time.monotonicNow()}`), 10);
    const cancelled = time.setTimeout(() => fired.push("never"), 15);
    cancelled.cancel();
    time.advance(15);
    expect(fired).toEqual(["a@10"]);
    expect(time.monotonicNow()).toBe(15);
    time.advance(5);
    expect(fired).toEqual(["a@10", "b@20"]);
    expect(time.pendingTimers).toBe(0);
  });

  it("repeats intervals until cancelled", () => {
    const time = new FakeTime();
    let ticks = 0;
    const interval = time.setInterval(() => ticks++, 10_000);
    time.advance(35_000);
    expect(ticks).toBe(3);
    interval.cancel();
    time.advance(100_000);
    expect(ticks).toBe(3);
  });

  it("keeps wall and monotonic apart: a wall step leaves durations alone", () => {
    const time = new FakeTime({ wallMs: Date.UTC(2026, 5, 30, 23, 59) });
    const start = time.monotonicNow();
    time.advance(60_000);
    expect(new Date(time.wallNow()).toISOString()).toBe("2026-07-01T00:00:00.000Z");
    time.setWall(Date.UTC(2020, 0, 1));
    expect(time.monotonicNow() - start).toBe(60_000);
    expect(addMonotonic(start, 5)).toBe(5);
  });

  it("sleep resolves after fake time passes and rejects on abort", async () => {
    const time = new FakeTime();
    let slept = false;
    const sleeping = time.sleep(1000).then(() => (slept = true));
    await time.advanceAsync(999);
    expect(slept).toBe(false);
    await time.advanceAsync(1);
    await sleeping;
    expect(slept).toBe(true);

    const controller = new AbortController();
    const aborted = time.sleep(1000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    expect(time.pendingTimers).toBe(0);
  });

  it("advanceAsync lets promise chains started by a timer settle before the next one fires", async () => {
    const time = new FakeTime();
    const log: string[] = [];
    time.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => log.push("chain"));
    }, 10);
    time.setTimeout(() => log.push("second"), 10);
    await time.advanceAsync(10);
    expect(log).toEqual(["chain", "second"]);
    await time.advanceUntil(() => log.length === 2);
    await expect(time.advanceUntil(() => false, { maxMs: 50, stepMs: 10 })).rejects.toThrow(/after 50 ms/);
  });
});

describe("systemTime", () => {
  it("reads real clocks and runs real timers", async () => {
    const before = systemTime.monotonicNow();
    await systemTime.sleep(5);
    expect(systemTime.monotonicNow() - before).toBeGreaterThanOrEqual(4);
    // The port's own check against the real wall clock, so it reads that clock directly.
    // eslint-disable-next-line no-restricted-syntax
    expect(Math.abs(systemTime.wallNow() - new Date().getTime())).toBeLessThan(1000);
  });
});
