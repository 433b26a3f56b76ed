import { describe, expect, it } from "vitest";
import { FakeTime, type MonotonicMs, type TimePort } from "../../core/index.js";
import { EventLoopLagSampler } from "./event-loop-lag.js";

/** FakeTime whose monotonic reading runs `blockedMs` ahead: a tick that came late by that much. */
function laggingTime(fake: FakeTime): TimePort & { blockedMs: number } {
  const time = {
    blockedMs: 0,
    monotonicNow: () => (fake.monotonicNow() + time.blockedMs) as MonotonicMs,
    wallNow: () => fake.wallNow(),
    setTimeout: (callback: () => void, ms: number) => fake.setTimeout(callback, ms),
    setInterval: (callback: () => void, ms: number) => fake.setInterval(callback, ms),
    sleep: (ms: number, signal?: AbortSignal) => fake.sleep(ms, signal),
  };
  return time;
}

describe("EventLoopLagSampler", () => {
  it("runs one timer however many readers it has", () => {
    const time = new FakeTime();
    const sampler = new EventLoopLagSampler({ time, resolutionMs: 100 });
    sampler.reader();
    sampler.reader();
    sampler.start();
    sampler.start();
    expect(time.pendingTimers).toBe(1);
    sampler.stop();
    expect(time.pendingTimers).toBe(0);
    expect(sampler.isRunning).toBe(false);
  });

  it("gives each reader the ticks since its own last take, as delay beyond the tick", () => {
    const fake = new FakeTime();
    const time = laggingTime(fake);
    const sampler = new EventLoopLagSampler({ time, resolutionMs: 100 });
    const metrics = sampler.reader();
    const sla = sampler.reader();
    expect(metrics.take()).toBeUndefined();
    sampler.start();
    fake.advance(1_000); // ten punctual ticks
    // Within the histogram's precision (3 significant digits: ~0.1 ms at 100 ms).
    const punctual = metrics.take()!;
    for (const value of Object.values(punctual)) expect(value).toBeLessThan(0.5);
    time.blockedMs = 250; // the next tick comes 250 ms late
    fake.advance(100);
    const late = metrics.take()!;
    expect(late.maxMs).toBeCloseTo(250, 0);
    expect(late.p99Ms).toBeCloseTo(250, 0);
    // The SLA reader has not taken yet: it still holds all eleven ticks, the late one included.
    const overall = sla.take()!;
    expect(overall.maxMs).toBeCloseTo(250, 0);
    expect(overall.p50Ms).toBeLessThan(0.5);
    expect(sla.take()).toBeUndefined();
    sampler.stop();
  });
});
