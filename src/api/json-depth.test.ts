import { describe, expect, it } from "vitest";
import { maxJsonDepth, pathBeyondDepth } from "./json-depth.js";

const nested = (depth: number): unknown =>
  JSON.parse('{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1));

describe("pathBeyondDepth", () => {
  it("accepts bodies up to the limit and names the path to the first level beyond it", () => {
    expect(pathBeyondDepth(nested(maxJsonDepth))).toBeUndefined();
    expect(pathBeyondDepth(nested(maxJsonDepth + 1))).toEqual(
      Array.from({ length: maxJsonDepth }, () => "a"),
    );
    expect(pathBeyondDepth({ ok: [1, 2], format: [[[]]] }, 3)).toEqual(["format", 0, 0]);
  });

  it("measures 100,000 levels without overflowing the stack", () => {
    const deep = JSON.parse("[".repeat(100_000) + "]".repeat(100_000)) as unknown;
    expect(pathBeyondDepth(deep)).toHaveLength(maxJsonDepth);
  });

  it("ignores wide bodies that stay shallow", () => {
    expect(
      pathBeyondDepth({ stop: Array.from({ length: 10_000 }, (_, index) => `s${index}`) }),
    ).toBeUndefined();
  });
});
