import { describe, expect, it } from "vitest";
import { parseAuditTime } from "./audit-time.js";

describe("parseAuditTime", () => {
  const nowMs = Date.UTC(2026, 11, 1, 12);

  it("reads spans back from now, epoch milliseconds and ISO dates", () => {
    expect(parseAuditTime("30s", nowMs)).toBe(nowMs - 30_000);
    expect(parseAuditTime("24h", nowMs)).toBe(nowMs - 86_400_000);
    expect(parseAuditTime("7d", nowMs)).toBe(nowMs - 7 * 86_400_000);
    expect(parseAuditTime("1796100000000", nowMs)).toBe(1_796_100_000_000);
    expect(parseAuditTime("2026-12-01T00:00:00Z", nowMs)).toBe(Date.UTC(2026, 11, 1));
    expect(parseAuditTime("2026", nowMs)).toBe(Date.UTC(2026, 0, 1)); // a year, not 2026 ms
  });

  it("answers undefined for anything else", () => {
    expect(parseAuditTime("yesterday", nowMs)).toBeUndefined();
    expect(parseAuditTime("5w", nowMs)).toBeUndefined();
    expect(parseAuditTime("", nowMs)).toBeUndefined();
  });

  it("answers undefined for times a Date cannot hold (found by the request fuzzer: a 500)", () => {
    expect(parseAuditTime("99999999999999999999", nowMs)).toBeUndefined();
    expect(parseAuditTime("99999999999999999999d", nowMs)).toBeUndefined();
    expect(parseAuditTime("8640000000000000", nowMs)).toBe(8.64e15);
  });
});
