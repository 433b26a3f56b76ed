import { describe, expect, it } from "vitest";
import { isClusterPath, secretMatches } from "./cluster-routes.js";

describe("the internal cluster route's guard", () => {
  it("accepts only the exact secret", () => {
    expect(secretMatches("s3cret", "s3cret")).toBe(true);
    expect(secretMatches("s3cret", "s3cre")).toBe(false);
    expect(secretMatches("s3cret", "s3cret ")).toBe(false);
    expect(secretMatches("s3cret", null)).toBe(false);
    // Loopback-only node without a secret (start refuses it on any other host).
    expect(secretMatches("", null)).toBe(true);
  });

  it("claims /internal/cluster/ paths only", () => {
    expect(isClusterPath("/internal/cluster/requests/x/run")).toBe(true);
    expect(isClusterPath("/v1/queue")).toBe(false);
  });
});
