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
});
