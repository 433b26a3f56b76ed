import { describe, expect, it } from "vitest";
import { ServedTrial, trialTokensPerCount } from "./served-trial.js";

describe("served trial of decode thread counts", () => {
  it("takes turns until every count has its tokens, then reports the rate per count", () => {
    const trial = new ServedTrial([1, 2]);
    const order: number[] = [];
    while (!trial.isDone) {
      order.push(trial.current);
      trial.record(trialTokensPerCount / 2, trial.current === 1 ? 640 : 1000);
    }
    expect(order).toEqual([1, 2, 1, 2]);
    expect(trial.samples()).toEqual([
      { threads: 1, tokensPerSecond: 200 },
      { threads: 2, tokensPerSecond: 128 },
    ]);
  });

  it("short generations do not count and do not switch", () => {
    const trial = new ServedTrial([1, 2]);
    trial.record(4, 10);
    expect(trial.current).toBe(1);
    trial.record(trialTokensPerCount * 2, 1000);
    // 1 has enough: the rest go to 2.
    expect(trial.current).toBe(2);
    trial.record(16, 100);
    expect(trial.current).toBe(2);
  });
});
