import { describe, expect, it } from "vitest";
import { redactStoreUrl } from "./index.js";

describe("redactStoreUrl", () => {
  it("hides the password and keeps the rest", () => {
    expect(redactStoreUrl("postgres://rawrxd:s3cret@db.internal:5432/rawrxd")).toBe(
      "postgres://rawrxd:***@db.internal:5432/rawrxd",
    );
    expect(redactStoreUrl("postgres://rawrxd@127.0.0.1:5432/rawrxd")).toBe(
      "postgres://rawrxd@127.0.0.1:5432/rawrxd",
    );
    expect(redactStoreUrl("not a url s3cret")).not.toContain("s3cret");
  });
});
