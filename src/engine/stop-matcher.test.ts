import { describe, expect, it } from "vitest";
import { StopMatcher } from "./stop-matcher.js";

function run(stops: string[], pieces: string[]): { out: string; isStopped: boolean } {
  const matcher = new StopMatcher(stops);
  let out = "";
  for (const piece of pieces) {
    const match = matcher.push(piece);
    out += match.text;
    if (match.isStopped) return { out, isStopped: true };
  }
  return { out: out + matcher.flush(), isStopped: false };
}

describe("StopMatcher", () => {
  it("passes text through when there are no stops", () => {
    expect(run([], ["a", "b"])).toEqual({ out: "ab", isStopped: false });
  });

  it("stops at a stop string split across pieces and drops it", () => {
    expect(run(["END"], ["once E", "N", "D more"])).toEqual({ out: "once ", isStopped: true });
  });

  it("releases held text that turned out not to be a stop", () => {
    const matcher = new StopMatcher(["\nUser:"]);
    expect(matcher.push("hi\nUs")).toEqual({ text: "hi", isStopped: false });
    expect(matcher.push("ually")).toEqual({ text: "\nUsually", isStopped: false });
  });

  it("uses the earliest of several stops", () => {
    expect(run(["b", "a"], ["xxab"])).toEqual({ out: "xx", isStopped: true });
  });

  it("flushes a held prefix at the end", () => {
    expect(run(["STOP"], ["go ST"])).toEqual({ out: "go ST", isStopped: false });
  });
});
