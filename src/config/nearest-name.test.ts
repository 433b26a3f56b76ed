import { describe, expect, it } from "vitest";
import { editDistance, nearestName } from "./nearest-name.js";

describe("nearestName", () => {
  const flags = ["--context-size", "--port", "--parallel", "--models", "--host"];

  it("finds a dropped letter, a swapped pair and a wrong case", () => {
    expect(nearestName("--contxt-size", flags)).toBe("--context-size");
    expect(nearestName("--prot", flags)).toBe("--port");
    expect(nearestName("--Models", flags)).toBe("--models");
  });

  it("suggests nothing for a different word", () => {
    expect(nearestName("--colour", flags)).toBeUndefined();
    expect(nearestName("--x", flags)).toBeUndefined();
    expect(nearestName("--port", [])).toBeUndefined();
  });

  it("counts a transposition as one edit", () => {
    expect(editDistance("prot", "port")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });
});
