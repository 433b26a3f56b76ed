import { describe, expect, it } from "vitest";
import { FakeTime } from "../../core/index.js";
import type { ThreadChoice } from "../../gpu/index.js";
import { fixedLoadProbe, type LoadVerdict } from "./load-check.js";
import type { ThreadDecision } from "./thread-calibration.js";
import { defaultRetryMs, minRecheckGapMs, ThreadTuner, watchLoad } from "./thread-tuner.js";

const calibrated: ThreadChoice = {
  threads: 2,
  batchThreads: 2,
  source: "calibrated",
  samples: [
    { threads: 1, tokensPerSecond: 100 },
    { threads: 2, tokensPerSecond: 200 },
  ],
  batchSamples: [],
  detail: "",
};
const rule: ThreadChoice = { ...calibrated, threads: 1, batchThreads: 1, source: "rule", samples: [] };
const cache = { path: "/tmp/threads.json", key: "model" };

function setUp(decision: ThreadDecision, trialCounts?: number[]) {
  const time = new FakeTime();
  const state = {
    idle: true,
    quiet: true,
    applied: [] as ThreadChoice[],
    forgotten: 0,
    calibrations: 0,
    decodeThreads: [] as number[],
    saved: [] as ThreadChoice[],
  };
  const next: ThreadDecision[] = [];
  const tuner = new ThreadTuner({
    time,
    decision,
    apply: (choice) => state.applied.push(choice),
    isIdle: () => state.idle,
    checkLoad: (): LoadVerdict => ({
      isQuiet: state.quiet,
      reason: state.quiet ? "" : "busy",
      conditions: undefined,
    }),
    recalibrate: () => {
      state.calibrations += 1;
      return Promise.resolve(next.shift() ?? { choice: calibrated, isProvisional: false, cache });
    },
    forget: () => {
      state.forgotten += 1;
      return Promise.resolve();
    },
    setDecodeThreads: (threads) => state.decodeThreads.push(threads),
    save: (saved) => {
      state.saved.push(saved.choice);
      return Promise.resolve();
    },
    trialCounts,
    log: () => undefined,
  });
  return { time, state, tuner, next };
}

describe("thread choice while serving", () => {
  it("a provisional rule is measured again at the first quiet, idle moment, through the time port", async () => {
    const { time, state, tuner, next } = setUp({ choice: rule, isProvisional: true, cache });
    expect(tuner.isPending).toBe(true);
    state.quiet = false;
    await time.advanceAsync(defaultRetryMs);
    expect(state.calibrations).toBe(0);
    state.quiet = true;
    state.idle = false;
    await time.advanceAsync(defaultRetryMs);
    expect(state.calibrations).toBe(0);
    state.idle = true;
    // Busy again during the measurement: still the rule, still pending.
    next.push({ choice: rule, isProvisional: true, cache });
    await time.advanceAsync(defaultRetryMs);
    expect(state.calibrations).toBe(1);
    expect(tuner.isPending).toBe(true);
    await time.advanceAsync(defaultRetryMs);
    expect(state.calibrations).toBe(2);
    expect(state.applied).toEqual([calibrated]);
    expect(tuner.choice).toBe(calibrated);
    expect(tuner.isPending).toBe(false);
    await time.advanceAsync(defaultRetryMs * 3);
    expect(state.calibrations).toBe(2);
  });

  it("a window of single-stream decoding well below the calibrated rate on a quiet machine drops the cache and re-measures", async () => {
    const { time, state, tuner } = setUp({ choice: calibrated, isProvisional: false, cache });
    expect(tuner.isPending).toBe(false);
    // 600 tokens at 150 tok/s: below 200 but not well below.
    tuner.recordDecode(600, 4000, 0);
    // Concurrent generations do not count.
    tuner.recordDecode(600, 60_000, 1);
    expect(tuner.isPending).toBe(false);
    // 300 + 300 tokens at 60 tok/s: well below.
    tuner.recordDecode(300, 5000, 0);
    expect(tuner.isPending).toBe(false);
    tuner.recordDecode(300, 5000, 0);
    expect(tuner.isPending).toBe(true);
    expect(state.forgotten).toBe(1);
    await time.advanceAsync(defaultRetryMs);
    expect(state.calibrations).toBe(1);
    expect(tuner.isPending).toBe(false);
    // At most one re-check per gap.
    tuner.recordDecode(600, 10_000, 0);
    expect(tuner.isPending).toBe(false);
    await time.advanceAsync(minRecheckGapMs);
    tuner.recordDecode(600, 10_000, 0);
    expect(tuner.isPending).toBe(true);
    expect(state.forgotten).toBe(2);
  });

  it("a slow window on a busy machine says nothing about the choice", () => {
    const { state, tuner } = setUp({ choice: calibrated, isProvisional: false, cache });
    state.quiet = false;
    tuner.recordDecode(600, 10_000, 0);
    expect(tuner.isPending).toBe(false);
    expect(state.forgotten).toBe(0);
  });

  it("a flag or rule choice has no calibrated rate to compare with", () => {
    const { state, tuner } = setUp({
      choice: { ...calibrated, source: "flag" },
      isProvisional: false,
      cache,
    });
    tuner.recordDecode(600, 60_000, 0);
    expect(tuner.isPending).toBe(false);
    expect(state.forgotten).toBe(0);
  });

  it("the load watch compares each reading with the previous one and leaves out the reporting generation", () => {
    let inFlight = 1;
    const quiet = watchLoad(fixedLoadProbe("quiet", 2), () => inFlight);
    expect(quiet(1).isQuiet).toBe(true);
    expect(quiet(0).reason).toBe("1 generation(s) in flight");
    inFlight = 0;
    expect(quiet(0).isQuiet).toBe(true);
    expect(watchLoad(fixedLoadProbe("busy", 2), () => 0)(0).isQuiet).toBe(false);
  });

  it("after a fresh calibration a served trial alternates decode counts on single streams and keeps the faster", () => {
    const fresh: ThreadChoice = {
      ...calibrated,
      threads: 1,
      samples: [{ threads: 1, tokensPerSecond: 200 }],
    };
    const { state, tuner } = setUp({ choice: fresh, isProvisional: false, cache }, [1, 2]);
    expect(tuner.decodeThreads).toBe(1);
    expect(tuner.isTrialRunning).toBe(true);
    const served: number[] = [];
    // Served rates: 1 thread 175 tok/s, 2 threads 130 tok/s (issue #17's figures through HTTP).
    for (let round = 0; round < 6; round++) {
      served.push(tuner.decodeThreads);
      const rate = tuner.decodeThreads === 1 ? 175 : 130;
      tuner.recordDecode(128, (128 * 1000) / rate, 0);
      // A generation beside another one does not count and does not switch.
      tuner.recordDecode(128, 1, 1);
    }
    // 256 tokens each, then 1 thread for good.
    expect(served).toEqual([1, 2, 1, 2, 1, 1]);
    expect(tuner.isTrialRunning).toBe(false);
    expect(tuner.decodeThreads).toBe(1);
    expect(tuner.choice.samples).toEqual([
      { threads: 1, tokensPerSecond: 175 },
      { threads: 2, tokensPerSecond: 130 },
    ]);
    expect(tuner.choice.detail).toMatch(/served: 1T 175 tok\/s, 2T 130 tok\/s → decode 1$/);
    expect(state.saved).toEqual([tuner.choice]);
    expect(state.applied).toEqual([tuner.choice]);
  });

  it("the served trial takes the second core when it pays through the serving path", () => {
    const fresh: ThreadChoice = {
      ...calibrated,
      threads: 1,
      samples: [{ threads: 1, tokensPerSecond: 200 }],
    };
    const { tuner } = setUp({ choice: fresh, isProvisional: false, cache }, [1, 2]);
    for (let round = 0; round < 8; round++) {
      const rate = tuner.decodeThreads === 1 ? 140 : 157;
      tuner.recordDecode(64, (64 * 1000) / rate, 0);
    }
    expect(tuner.choice.threads).toBe(2);
    expect(tuner.decodeThreads).toBe(2);
  });

  it("a cached choice runs no trial", () => {
    const { state, tuner } = setUp(
      { choice: { ...calibrated, source: "cached" }, isProvisional: false, cache },
      [1, 2],
    );
    expect(tuner.decodeThreads).toBe(2);
    expect(tuner.isTrialRunning).toBe(false);
    expect(state.decodeThreads).toEqual([]);
  });
});
