import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { hashRecord, type AuditRecord } from "./audit-record.js";
import {
  createFixture,
  readLines,
  segmentPaths,
  writeHonestLog,
  writeLines,
  type AuditFixture,
} from "./audit-fixture.testing.js";
import { canonicalJson } from "./canonical-json.js";
import { generateSigningKey } from "./signing-key.js";
import { verifyAuditLog, type VerifyAuditLogOptions } from "./verify-audit-log.js";
import type { AuditFindingKind } from "./verify-findings.js";

let fixture: AuditFixture;
afterEach(() => fixture.cleanup());

function verify(options: Partial<VerifyAuditLogOptions> = {}) {
  return verifyAuditLog({ directory: fixture.directory, publicKey: fixture.key.publicKey, ...options });
}

function errors(report: Awaited<ReturnType<typeof verify>>) {
  return report.findings.filter((finding) => finding.severity === "error");
}

function kinds(report: Awaited<ReturnType<typeof verify>>): AuditFindingKind[] {
  return errors(report).map((finding) => finding.kind);
}

/** One segment of 20 records, checkpoints every 5. */
async function oneSegment(): Promise<string> {
  fixture = createFixture();
  await writeHonestLog(fixture, 20);
  const [path] = await segmentPaths(fixture);
  return path!;
}

function reseal(record: Omit<AuditRecord, "hash">): string {
  return canonicalJson({ ...record, hash: hashRecord(record) });
}

describe("verifyAuditLog on an honest log", () => {
  it("passes, with every checkpoint and witness copy verified", async () => {
    await oneSegment();
    const report = await verify({ witnessDirectory: fixture.witness });
    expect(report).toMatchObject({ intact: true, records: 20, firstSeq: 1, lastSeq: 20 });
    expect(report.findings).toEqual([]);
    expect(report.checkpointsVerified).toBe(5);
    expect(report.witnessCheckpointsVerified).toBe(5);
  });

  it("follows one chain across segments rolled by size", async () => {
    fixture = createFixture();
    await writeHonestLog(fixture, 30, { maxSegmentBytes: 2000 });
    expect((await segmentPaths(fixture)).length).toBeGreaterThan(2);
    const report = await verify();
    expect(report.findings).toEqual([]);
    expect(report.records).toBe(30);
  });
});

describe("the tamper corpus", () => {
  it("a flipped byte: modified record, with its segment, line and seq", async () => {
    const path = await oneSegment();
    const lines = readLines(path);
    lines[6] = lines[6]!.replace('"promptTokens":7', '"promptTokens":8');
    writeLines(path, lines);
    const report = await verify();
    expect(report.intact).toBe(false);
    expect(errors(report)).toEqual([
      expect.objectContaining({
        kind: "modified-record",
        line: 7,
        seq: 7,
        segment: expect.stringMatching(/^segment-000001-/),
      }),
    ]);
  });

  it("a deleted line: the missing seq is named", async () => {
    const path = await oneSegment();
    const lines = readLines(path);
    lines.splice(9, 1);
    writeLines(path, lines);
    const report = await verify();
    expect(errors(report)).toEqual([
      expect.objectContaining({ kind: "deleted-records", seq: 10, message: "record seq 10 is missing" }),
    ]);
  });

  it("two swapped lines: both seqs named", async () => {
    const path = await oneSegment();
    const lines = readLines(path);
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    writeLines(path, lines);
    const report = await verify();
    expect(errors(report)).toEqual([
      expect.objectContaining({
        kind: "swapped-records",
        seq: 4,
        message: "records seq 4 and 5 were swapped",
      }),
    ]);
  });

  it("a forged line with a correct-looking hash: inserted record at its line", async () => {
    const path = await oneSegment();
    const lines = readLines(path);
    const predecessor = JSON.parse(lines[11]!) as AuditRecord;
    const { hash: _hash, ...template } = JSON.parse(lines[12]!) as AuditRecord;
    const forged = reseal({ ...template, keyId: "rxd_admin1", action: "delete", prev: predecessor.hash });
    lines.splice(12, 0, forged);
    writeLines(path, lines);
    const report = await verify();
    expect(errors(report)).toEqual([expect.objectContaining({ kind: "inserted-record", seq: 13, line: 13 })]);
  });

  it("a truncated tail: fewer records than the last checkpoint", async () => {
    const path = await oneSegment();
    writeLines(path, readLines(path).slice(0, 17));
    const report = await verify();
    expect(errors(report)).toEqual([
      expect.objectContaining({
        kind: "truncated-tail",
        seq: 20,
        message: expect.stringContaining("3 records are gone"),
      }),
    ]);
  });

  it("a deleted segment in the middle", async () => {
    fixture = createFixture();
    await writeHonestLog(fixture, 30, { maxSegmentBytes: 2000 });
    const paths = await segmentPaths(fixture);
    rmSync(paths[1]!);
    const report = await verify();
    expect(kinds(report)).toEqual(["deleted-segment"]);
    expect(errors(report)[0]!.message).toMatch(
      /segment number 2 between segment-000001-\S+ and segment-000003-/,
    );
  });

  it("a deleted last segment: the signed checkpoints reach past the end", async () => {
    fixture = createFixture();
    await writeHonestLog(fixture, 30, { maxSegmentBytes: 2000 });
    const paths = await segmentPaths(fixture);
    rmSync(paths.at(-1)!);
    const report = await verify();
    expect(new Set(kinds(report))).toEqual(new Set(["truncated-tail"]));
    expect(errors(report).at(-1)!.message).toMatch(/covers seq 30/);
  });

  it("a deleted first segment, with no purge record to account for it", async () => {
    fixture = createFixture();
    await writeHonestLog(fixture, 30, { maxSegmentBytes: 2000 });
    rmSync((await segmentPaths(fixture))[0]!);
    const report = await verify();
    expect(kinds(report)).toEqual(["deleted-segment"]);
    expect(errors(report)[0]!.message).toMatch(/no retention purge record accounts for them/);
  });

  it("everything rewritten and re-signed with a new key: forged checkpoints, and the witness disagrees", async () => {
    await oneSegment();
    const honestWitness = fixture.witness;
    const original = fixture.key;
    rmSync(fixture.directory, { recursive: true });
    const attackerKey = generateSigningKey();
    fixture.key = attackerKey;
    fixture.witness = fixture.root + "/attacker-witness";
    await writeHonestLog(fixture, 20);
    fixture.key = original;
    const report = await verify({ witnessDirectory: honestWitness });
    const found = kinds(report);
    expect(found.filter((kind) => kind === "forged-checkpoint")).toHaveLength(5);
    expect(found.filter((kind) => kind === "witness-mismatch")).toHaveLength(5);
    expect(found).toContain("missing-checkpoints");
    expect(errors(report)[0]!.message).toContain(`it names key ${attackerKey.keyId}`);
  });

  it("everything and the public key replaced: verifies alone, the witness names the rewrite", async () => {
    await oneSegment();
    const honestWitness = fixture.witness;
    const originalKeyId = fixture.key.keyId;
    rmSync(fixture.directory, { recursive: true });
    fixture.key = generateSigningKey();
    fixture.witness = fixture.root + "/attacker-witness";
    await writeHonestLog(fixture, 20);
    expect((await verify()).intact).toBe(true);
    const report = await verify({ witnessDirectory: honestWitness });
    expect(kinds(report)).toEqual(Array(5).fill("witness-mismatch"));
    expect(errors(report)[0]!.message).toMatch(/^the log was rewritten with another key/);
    expect(errors(report)[0]!.message).toContain(`with key ${originalKeyId}`);
  });

  it("a rewrite by someone who holds the signing key is caught by the witness alone", async () => {
    await oneSegment();
    const honestWitness = fixture.witness;
    rmSync(fixture.directory, { recursive: true });
    fixture.witness = fixture.root + "/attacker-witness";
    fixture.time.advance(5000);
    await writeHonestLog(fixture, 20);
    expect((await verify()).intact).toBe(true);
    const report = await verify({ witnessDirectory: honestWitness });
    expect(kinds(report)).toEqual(Array(5).fill("witness-mismatch"));
    expect(errors(report)[0]!.message).toMatch(/records up to seq 1 were rewritten/);
  });

  it("a forged checkpoint line", async () => {
    await oneSegment();
    const checkpoints = fixture.directory + "/checkpoints.jsonl";
    const lines = readLines(checkpoints);
    const checkpoint = JSON.parse(lines[3]!) as { seq: number };
    lines.push(JSON.stringify({ ...checkpoint, seq: 25 }));
    writeLines(checkpoints, lines);
    const report = await verify();
    expect(errors(report)).toEqual([
      expect.objectContaining({ kind: "forged-checkpoint", line: 6, seq: 25 }),
    ]);
  });

  it("deleted checkpoints: records no key signed", async () => {
    await oneSegment();
    rmSync(fixture.directory + "/checkpoints.jsonl");
    const report = await verify();
    expect(kinds(report)).toEqual(["missing-checkpoints"]);
  });

  it("a duplicated sequence number", async () => {
    const path = await oneSegment();
    const lines = readLines(path);
    lines.splice(8, 0, lines[7]!);
    writeLines(path, lines);
    const report = await verify();
    expect(errors(report)).toEqual([
      expect.objectContaining({
        kind: "duplicated-sequence",
        seq: 8,
        line: 9,
        message: expect.stringContaining("appears twice"),
      }),
    ]);
  });

  it("the clock set backwards: a warning and a system record, not a failure", async () => {
    fixture = createFixture();
    const log = await fixture.open();
    await log.record({ type: "system", action: "start" });
    fixture.time.setWall(fixture.time.wallNow() - 3_600_000);
    await log.record({ type: "system", action: "health-change" });
    await log.close();
    const report = await verify();
    expect(report.intact).toBe(true);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: "clock-backwards",
        severity: "warning",
        seq: 2,
        message: expect.stringContaining("3600000 ms"),
      }),
    ]);
    const [path] = await segmentPaths(fixture);
    const second = JSON.parse(readLines(path!)[1]!) as AuditRecord;
    expect(second).toMatchObject({
      type: "system",
      action: "clock-backwards",
      details: { stepMs: 3_600_000 },
    });
  });
});

describe("verify --from/--to", () => {
  it("checks only the records in the range, anchored at the first", async () => {
    const path = await oneSegment();
    const lines = readLines(path);
    lines[2] = lines[2]!.replace('"promptTokens":3', '"promptTokens":4');
    writeLines(path, lines);
    const seven = JSON.parse(lines[6]!) as AuditRecord;
    const ranged = await verify({ fromMs: Date.parse(seven.time) });
    expect(ranged).toMatchObject({ intact: true, firstSeq: 7, lastSeq: 20 });
    expect((await verify()).intact).toBe(false);
  });
});
