import { describe, expect, it } from "vitest";
import {
  failingChecks,
  serviceStateOf,
  type CheckKind,
  type CheckResult,
  type CheckStatus,
} from "./service-state.js";

const check = (name: string, kind: CheckKind, status: CheckStatus): CheckResult => ({
  name,
  kind,
  status,
  reason: status === "pass" ? "" : "broken",
  ms: 1,
});

describe("the service-state rule", () => {
  it.each([
    ["everything passes", [check("front", "front", "pass"), check("runner:a", "runner", "pass")], "up"],
    ["no model loaded, front passes", [check("front", "front", "pass"), check("disk", "disk", "pass")], "up"],
    ["front fails", [check("front", "front", "fail"), check("runner:a", "runner", "pass")], "down"],
    ["the only runner fails", [check("front", "front", "pass"), check("runner:a", "runner", "fail")], "down"],
    [
      "every model check fails",
      [
        check("front", "front", "pass"),
        check("runner:a", "runner", "fail"),
        check("probe:a", "probe", "fail"),
      ],
      "down",
    ],
    [
      "one of two runners fails",
      [
        check("front", "front", "pass"),
        check("runner:a", "runner", "fail"),
        check("runner:b", "runner", "pass"),
      ],
      "degraded",
    ],
    [
      "probe past its deadline (warn)",
      [check("front", "front", "pass"), check("probe:a", "probe", "warn")],
      "degraded",
    ],
    ["disk low", [check("front", "front", "pass"), check("disk", "disk", "warn")], "degraded"],
    ["audit failed", [check("front", "front", "pass"), check("audit", "audit", "fail")], "degraded"],
  ] as const)("%s → %s", (...row) => {
    const [, results, expected] = row;
    expect(serviceStateOf(results)).toBe(expected);
  });

  it("names the failing checks and their reasons", () => {
    expect(failingChecks([check("front", "front", "pass"), check("runner:a", "runner", "fail")])).toEqual([
      "runner:a (fail): broken",
    ]);
  });
});
