import { describe, expect, it } from "vitest";
import { decodeCandidates, pickThreads, ruleThreads, threadCandidates } from "./thread-calibration.js";

describe("thread calibration policy", () => {
  it("candidates: 1, half the cores, all but one, all; at most 16", () => {
    expect(threadCandidates(1)).toEqual([1]);
    expect(threadCandidates(2)).toEqual([1, 2]);
    expect(threadCandidates(4)).toEqual([1, 2, 3, 4]);
    expect(threadCandidates(16)).toEqual([1, 8, 15, 16]);
    expect(threadCandidates(64)).toEqual([1, 16]);
  });

  it("picks the fewest threads within 5 % of the fastest", () => {
    expect(
      pickThreads([
        { threads: 1, tokensPerSecond: 100 },
        { threads: 2, tokensPerSecond: 104 },
      ]),
    ).toBe(1);
    expect(
      pickThreads([
        { threads: 1, tokensPerSecond: 100 },
        { threads: 2, tokensPerSecond: 106 },
      ]),
    ).toBe(2);
    expect(
      pickThreads([
        { threads: 1, tokensPerSecond: 110 },
        { threads: 2, tokensPerSecond: 40 },
      ]),
    ).toBe(1);
    expect(
      pickThreads([
        { threads: 8, tokensPerSecond: 50 },
        { threads: 1, tokensPerSecond: 10 },
        { threads: 15, tokensPerSecond: 51 },
      ]),
    ).toBe(8);
  });

  it("the rule without a measurement: cores − 1, at least 1, at most 8", () => {
    expect([1, 2, 4, 32].map(ruleThreads)).toEqual([1, 1, 3, 8]);
  });

  it("decode candidates leave one core to the serving path on machines with 2 cores or fewer", () => {
    expect(decodeCandidates(1)).toEqual([1]);
    expect(decodeCandidates(2)).toEqual([1]);
    expect(decodeCandidates(4)).toEqual(threadCandidates(4));
  });
});
