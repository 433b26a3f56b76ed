import { describe, expect, it } from "vitest";
import { acceptRequestId } from "./request-id.js";

describe("acceptRequestId", () => {
  it("keeps a caller's short plain id", () => {
    expect(acceptRequestId("client-42.a:b_c")).toBe("client-42.a:b_c");
  });

  it("makes an id of 9 random bytes for a missing, long or unplain one", () => {
    for (const header of [undefined, "", "x".repeat(65), "has space", "new\nline"]) {
      expect(acceptRequestId(header)).toMatch(/^req-[A-Za-z0-9_-]{12}$/);
    }
  });

  it("makes distinct ids across several refills of its random pool (256 ids each)", () => {
    const ids = new Set(Array.from({ length: 2000 }, () => acceptRequestId(undefined)));
    expect(ids.size).toBe(2000);
  });
});
