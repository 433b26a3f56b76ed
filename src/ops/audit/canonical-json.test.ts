import { describe, expect, it } from "vitest";
import { buildRecordLine, hasValidHash } from "./audit-record.js";
import { canonicalJson } from "./canonical-json.js";

describe("canonicalJson", () => {
  it("sorts keys at every depth, drops undefined members and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null, "x"], c: undefined, é: -0 }, A: 1.5 })).toBe(
      '{"A":1.5,"a":{"d":[true,null,"x"],"é":0},"b":1}',
    );
  });
});

describe("buildRecordLine", () => {
  it("writes the same bytes as canonical JSON of the record, even when details hold a keyId", () => {
    const { record, line } = buildRecordLine(
      {
        type: "configuration",
        action: "change",
        object: 'a ,"keyId": trick',
        details: { before: { keyId: "x", z: 1 }, after: { keyId: "y" } },
      },
      { seq: 3, prev: "f".repeat(64), timeMs: Date.UTC(2026, 0, 1), node: "n" },
    );
    expect(line).toBe(canonicalJson(record) + "\n");
    expect(hasValidHash(JSON.parse(line) as typeof record)).toBe(true);
  });
});
