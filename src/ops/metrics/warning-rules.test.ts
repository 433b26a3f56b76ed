import { describe, expect, it } from "vitest";
import type { WallMs } from "../../core/index.js";
import { WarningTracker, type WarningCheck } from "./warning-rules.js";

const wall = (ms: number): WallMs => ms as WallMs;

function decodeCheck(value: number | null): WarningCheck {
  return {
    key: "decode-speed:alpha",
    rule: "decode-speed",
    model: "alpha",
    value,
    threshold: 50,
    direction: "below",
    describe: (current) => `decodes ${current} tokens/s`,
  };
}

/** Feeds one value per 10 s step and returns the transitions as "start@s" / "clear@s". */
function run(tracker: WarningTracker, values: (number | null)[]): string[] {
  return values.flatMap((value, step) =>
    tracker
      .evaluate(value === undefined ? [] : [decodeCheck(value)], wall(step * 10_000))
      .map((transition) => `${transition.state}@${step * 10}`),
  );
}

describe("WarningTracker", () => {
  it("starts once a breach has held for forMs and clears once recovery has held for forMs", () => {
    const tracker = new WarningTracker({ forMs: 30_000 });
    //                      0s  10  20  30  40  50  60  70  80  90  100
    expect(run(tracker, [20, 20, 20, 20, 20, 60, 60, 60, 60, 60, 60])).toEqual(["start@30", "clear@80"]);
    expect(tracker.active()).toEqual([]);
    expect(tracker.recent().map((warning) => warning.state)).toEqual(["cleared", "active"]);
  });

  it("does not flap while a value hovers around the threshold", () => {
    const tracker = new WarningTracker({ forMs: 30_000 });
    // Alternating breach / no breach never holds for 30 s: no warning at all.
    expect(run(tracker, [49, 51, 49, 51, 49, 51, 49, 51, 49, 51])).toEqual([]);
    // Once firing, values between the threshold and the 10% margin (50–55) keep it active, and
    // dips below the threshold reset recovery instead of raising it again.
    const firing = new WarningTracker({ forMs: 30_000 });
    expect(run(firing, [20, 20, 20, 20, 52, 54, 49, 53, 56, 56, 49, 56, 56, 56, 56])).toEqual([
      "start@30",
      "clear@140",
    ]);
    const transitions = firing.recent();
    expect(transitions).toHaveLength(2);
  });

  it("treats missing data as recovered and a zero hold as immediate", () => {
    const tracker = new WarningTracker({ forMs: 0 });
    expect(tracker.evaluate([decodeCheck(10)], wall(0)).map((transition) => transition.state)).toEqual([
      "start",
    ]);
    expect(tracker.active()).toHaveLength(1);
    expect(tracker.evaluate([decodeCheck(10)], wall(1000))).toEqual([]);
    // The model got no requests in the window: the check reports null, then is missing.
    expect(
      tracker.evaluate([], wall(2000)).map((transition) => [transition.state, transition.warning.value]),
    ).toEqual([["clear", null]]);
  });

  it("per-check holdMs overrides forMs (events such as a crash fire at once)", () => {
    const tracker = new WarningTracker({ forMs: 60_000 });
    const crash: WarningCheck = {
      key: "runner-restart:alpha",
      rule: "runner-restart",
      model: "alpha",
      value: 1,
      threshold: 0,
      direction: "above",
      holdMs: 0,
      describe: () => "crashed",
    };
    expect(tracker.evaluate([crash], wall(0)).map((transition) => transition.state)).toEqual(["start"]);
    expect(tracker.evaluate([], wall(5000)).map((transition) => transition.state)).toEqual(["clear"]);
  });
});
