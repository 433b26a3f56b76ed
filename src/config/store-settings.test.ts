import { describe, expect, it } from "vitest";
import { loadConfig } from "./load-config.js";

const load = (flags: Record<string, string>, env: Record<string, string> = {}) =>
  loadConfig({ flags, env, readConfigFile: false });

describe("the store setting", () => {
  it("defaults to none: SQLite only", () => {
    expect(load({}).store).toBe("");
  });

  it("takes a postgres:// URL from the flag or RAWRXD_STORE", () => {
    expect(load({ store: "postgres://rawrxd:pw@db:5432/rawrxd" }).store).toBe(
      "postgres://rawrxd:pw@db:5432/rawrxd",
    );
    expect(load({}, { RAWRXD_STORE: "postgresql://db/rawrxd" }).store).toBe("postgresql://db/rawrxd");
  });

  it.each(["redis://db:6379", "db:5432", "postgres://"])("refuses %s without repeating it", (value) => {
    const url = value.replace("db", "db-s3cret");
    for (const setting of ["store", "audit-witness-url"]) {
      expect(() => load({ [setting]: url })).toThrow();
      try {
        load({ [setting]: url });
      } catch (error) {
        expect(String(error)).not.toContain("s3cret");
      }
    }
  });

  it("reads an empty value as none, for the store and the audit witness alike", () => {
    expect(load({}, { RAWRXD_STORE: " ", RAWRXD_AUDIT_WITNESS_URL: "" })).toMatchObject({
      store: "",
      auditWitnessUrl: "",
    });
  });
});
