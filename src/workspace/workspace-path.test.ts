import { describe, expect, it } from "vitest";
import { parseWorkspacePath } from "./index.js";

const codeOf = (raw: string | undefined): string | undefined => {
  try {
    parseWorkspacePath(raw);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe("parseWorkspacePath", () => {
  it("splits a relative path into segments, dropping empty ones", () => {
    expect(parseWorkspacePath("src/main.ts")).toEqual(["src", "main.ts"]);
    expect(parseWorkspacePath("src//lib/")).toEqual(["src", "lib"]);
  });

  it("refuses ways out and hidden entries as forbidden", () => {
    for (const raw of ["../x", "a/../../x", "/etc/passwd", "./a", ".env", "a/.git/config"])
      expect(codeOf(raw), raw).toBe("forbidden");
  });

  it("refuses malformed paths as bad requests", () => {
    for (const raw of [undefined, "", "/", "a\\..\\b", "a\0b", "x".repeat(1025)])
      expect(codeOf(raw), String(raw)).toMatch(/bad-request|forbidden/);
    expect(codeOf("a\\b")).toBe("bad-request");
  });
});
