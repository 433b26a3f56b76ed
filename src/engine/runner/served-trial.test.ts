import { describe, expect, it } from "vitest";
import { ServedTrial, trialMsPerCount, trialTokensPerCount } from "./served-trial.js";

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

  it("on a fast model goes on until each count has decoded for a second too", () => {
    const trial = new ServedTrial([1, 2]);
    const order: number[] = [];
    // 128 tokens in 100 ms (1T) or 80 ms (2T): 256 tokens each after four turns, not a second.
    while (!trial.isDone) {
      order.push(trial.current);
      trial.record(128, trial.current === 1 ? 100 : 80);
    }
    expect(order.filter((count) => count === 1).length).toBe(trialMsPerCount / 100);
    expect(order.filter((count) => count === 2).length).toBe(Math.ceil(trialMsPerCount / 80));
    expect(order.slice(0, 4)).toEqual([1, 2, 1, 2]);
    expect(trial.samples()).toEqual([
      { threads: 1, tokensPerSecond: 1280 },
      { threads: 2, tokensPerSecond: 1600 },
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
