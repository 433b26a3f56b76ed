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

function setUp(decision: ThreadDecision) {
  const time = new FakeTime();
  const state = { idle: true, quiet: true, applied: [] as ThreadChoice[], forgotten: 0, calibrations: 0 };
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
});
