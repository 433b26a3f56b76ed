import { createHistogram } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { EventLoopLagSampler } from "./event-loop-lag.js";

/** Records `count` ticks that came `ms` apart (the sampler's 100 ms resolution plus any delay). */
function recordTicks(histogram: ReturnType<typeof createHistogram>, ms: number, count: number): void {
  for (let index = 0; index < count; index++) histogram.record(Math.round(ms * 1e6));
}

describe("EventLoopLagSampler", () => {
  it("gives each reader the samples since its own last take, as delay beyond the tick", () => {
    const histogram = createHistogram();
    const sampler = new EventLoopLagSampler({ resolutionMs: 100, histogram });
    const metrics = sampler.reader();
    const sla = sampler.reader();
    sampler.start();
    expect(metrics.take()).toBeUndefined();
    recordTicks(histogram, 100, 10); // ten punctual ticks
    const punctual = metrics.take()!;
    // Within the histogram's precision (3 significant digits: ~0.1 ms at 100 ms).
    for (const value of Object.values(punctual)) expect(value).toBeLessThan(0.5);
    recordTicks(histogram, 350, 1); // one tick 250 ms late
    const late = metrics.take()!;
    expect(late.maxMs).toBeCloseTo(250, -1);
    expect(late.p99Ms).toBeCloseTo(250, -1);
    expect(metrics.take()).toBeUndefined();
    // The SLA reader has not taken yet: it holds all eleven ticks, the late one included.
    const overall = sla.take()!;
    expect(overall.maxMs).toBeCloseTo(250, -1);
    expect(overall.p99Ms).toBeCloseTo(250, -1);
    // p50 over intervals is their count-weighted mean (10 punctual, 1 late): an approximation.
    expect(overall.p50Ms).toBeCloseTo(250 / 11, 0);
    expect(overall.meanMs).toBeCloseTo(250 / 11, 0);
    expect(sla.take()).toBeUndefined();
    sampler.stop();
    expect(sampler.isRunning).toBe(false);
  });

  it("runs perf_hooks' monitor only while started", () => {
    const sampler = new EventLoopLagSampler();
    const reader = sampler.reader();
    expect(sampler.isRunning).toBe(false);
    sampler.start();
    sampler.start();
    expect(sampler.isRunning).toBe(true);
    sampler.stop();
    expect(reader.take()).toBeUndefined();
  });

  it("while idle reads no lag instead of nothing, and keeps the samples taken before", () => {
    const histogram = createHistogram();
    const sampler = new EventLoopLagSampler({ resolutionMs: 100, histogram });
    const metrics = sampler.reader();
    const sla = sampler.reader();
    sampler.start();
    recordTicks(histogram, 400, 1); // one tick 300 ms late, then the server goes idle
    sampler.setIdle(true);
    expect(sampler.isIdle).toBe(true);
    expect(metrics.take()!.maxMs).toBeCloseTo(300, -1);
    // An interval spent idle with no sample: nothing was served, nothing was delayed.
    expect(metrics.take()).toEqual({ p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 });
    expect(sla.take()!.maxMs).toBeCloseTo(300, -1);
    sampler.setIdle(false);
    // Idle during part of this interval, no sample since: still no lag.
    expect(sla.take()).toEqual({ p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 });
    // Busy for a whole interval without a sample yet: not measured.
    expect(sla.take()).toBeUndefined();
    recordTicks(histogram, 100, 4);
    expect(sla.take()!.maxMs).toBeLessThan(0.5);
    sampler.stop();
  });

  it("stops perf_hooks' monitor while idle and starts it again on activity", () => {
    const sampler = new EventLoopLagSampler();
    const reader = sampler.reader();
    sampler.setIdle(true);
    sampler.start();
    expect(sampler.isRunning).toBe(true);
    sampler.setIdle(false);
    sampler.setIdle(true);
    sampler.stop();
    expect(sampler.isRunning).toBe(false);
    expect(reader.take()).toEqual({ p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 });
  });
});
