import { describe, expect, it } from "vitest";
import { diffLines, isUnchanged } from "./line-diff.js";

const render = (before: string, after: string): string[] =>
  diffLines(before, after).map((line) => `${{ same: " ", added: "+", removed: "-" }[line.kind]}${line.text}`);

describe("diffLines", () => {
  it("keeps common lines and marks removed and added ones in order", () => {
    expect(render("a\nb\nc\nd", "a\nB\nc\nd\ne")).toEqual([" a", "-b", "+B", " c", " d", "+e"]);
  });

  it("finds the longest common run inside a changed middle", () => {
    expect(render("x\n1\n2\n3\ny", "x\n0\n1\n3\n4\ny")).toEqual([" x", "+0", " 1", "-2", " 3", "+4", " y"]);
  });

  it("says when nothing changed, and handles empty sides", () => {
    expect(isUnchanged(diffLines("same\ntext", "same\ntext"))).toBe(true);
    expect(render("", "new")).toEqual(["-", "+new"]);
    expect(render("old", "")).toEqual(["-old", "+"]);
  });
});
