import { describe, expect, it } from "vitest";
import { calibrate } from "./thread-measure.js";

/** A measure that answers scripted rates in call order, recording which count was asked. */
function scripted(rates: number[]): { asked: number[]; measure: (threads: number) => Promise<number> } {
  const asked: number[] = [];
  return {
    asked,
    measure: (threads) => {
      asked.push(threads);
      return Promise.resolve(rates.shift()!);
    },
  };
}

describe("calibrate", () => {
  it("measures in ABBA order and keeps each count's best rate", async () => {
    const { asked, measure } = scripted([500, 790, 810, 520]);
    const samples = await calibrate([1, 2], measure);
    expect(asked).toEqual([1, 2, 2, 1]);
    expect(samples).toEqual([
      { threads: 1, tokensPerSecond: 520 },
      { threads: 2, tokensPerSecond: 810 },
    ]);
  });

  it("measures a second pass when the first is not settled, keeping the best of both", async () => {
    // Both 2-thread samples of the first pass hit by other work; the second pass is not.
    const { asked, measure } = scripted([524, 519, 480, 510, 515, 805, 790, 500]);
    const samples = await calibrate(
      [1, 2],
      measure,
      (found) => found[1]!.tokensPerSecond > found[0]!.tokensPerSecond,
    );
    expect(asked).toEqual([1, 2, 2, 1, 1, 2, 2, 1]);
    expect(samples).toEqual([
      { threads: 1, tokensPerSecond: 524 },
      { threads: 2, tokensPerSecond: 805 },
    ]);
  });

  it("stops after one pass when it is settled, and after two when it never is", async () => {
    const once = scripted([500, 800, 800, 500]);
    await calibrate([1, 2], once.measure, () => true);
    expect(once.asked).toHaveLength(4);
    const twice = scripted([500, 400, 400, 500, 500, 400, 400, 500, 999]);
    const samples = await calibrate([1, 2], twice.measure, () => false);
    expect(twice.asked).toHaveLength(8);
    expect(samples).toEqual([
      { threads: 1, tokensPerSecond: 500 },
      { threads: 2, tokensPerSecond: 400 },
    ]);
  });

  it("answers too-slow when the first sample is slower than a second per token", async () => {
    const { asked, measure } = scripted([0.5, 100, 100, 100]);
    expect(await calibrate([1, 2], measure)).toBe("too-slow");
    expect(asked).toEqual([1]);
  });
});
