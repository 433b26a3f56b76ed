import { afterEach, describe, expect, it } from "vitest";
import { parseCsv } from "../metrics/index.js";
import { auditRecordsCsv, auditRecordsJsonl, queryAuditLog, type AuditQuery } from "./audit-query.js";
import type { AuditRecord } from "./audit-record.js";
import { createFixture, startMs, type AuditFixture } from "./audit-fixture.testing.js";
import { hasValidHash } from "./audit-record.js";
import { retentionDays, retentionMs } from "./retention.js";

let fixture: AuditFixture;
afterEach(() => fixture.cleanup());

async function collect(query: AuditQuery): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of queryAuditLog(fixture.directory, query)) records.push(record);
  return records;
}

async function seed(): Promise<void> {
  fixture = createFixture();
  const log = await fixture.open();
  await log.record({ type: "system", action: "start" });
  fixture.time.advance(3_600_000);
  await log.record({ type: "inference", action: "generate", keyId: "rxd_alice", requestId: "req-1" });
  await log.record({
    type: "authentication",
    action: "key-rejected",
    outcome: "denied",
    object: "=cmd|' /C calc'!A0",
  });
  fixture.time.advance(86_400_000);
  await log.record({ type: "inference", action: "generate", keyId: "rxd_bob", requestId: "req-2" });
  await log.close();
}

describe("queryAuditLog", () => {
  it("filters by time, type, key and request id across day segments", async () => {
    await seed();
    expect((await collect({})).map((record) => record.seq)).toEqual([1, 2, 3, 4]);
    expect((await collect({ types: ["inference"] })).map((record) => record.seq)).toEqual([2, 4]);
    expect((await collect({ keyId: "rxd_bob" })).map((record) => record.seq)).toEqual([4]);
    expect((await collect({ requestId: "req-1" })).map((record) => record.seq)).toEqual([2]);
    const window = { sinceMs: startMs + 1_000, untilMs: startMs + 86_400_000 };
    expect((await collect(window)).map((record) => record.seq)).toEqual([2, 3]);
  });

  it("exports JSON lines whose hashes still check, and CSV with formulas neutralised", async () => {
    await seed();
    const records = await collect({});
    const lines = auditRecordsJsonl(records).trimEnd().split("\n");
    expect(lines.map((line) => hasValidHash(JSON.parse(line) as AuditRecord))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    const rows = parseCsv(auditRecordsCsv(records));
    expect(rows[0]).toContain("request_id");
    expect(rows).toHaveLength(5);
    const objectColumn = rows[0]!.indexOf("object");
    expect(rows[3]![objectColumn]).toBe("'=cmd|' /C calc'!A0");
  });
});

describe("retention profiles", () => {
  it("keep 365 days by default and six years under hipaa", () => {
    expect(retentionDays.standard).toBe(365);
    expect(retentionMs("hipaa") / 86_400_000).toBeGreaterThanOrEqual(6 * 365 + 1);
  });
});
