import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemTime } from "../../core/index.js";
import type { AuditRecord } from "./audit-record.js";
import {
  createFixture,
  readLines,
  segmentPaths,
  writeHonestLog,
  type AuditFixture,
} from "./audit-fixture.testing.js";
import { testFiles } from "./audit-files.testing.js";
import type { AuditHealth } from "./audit-log.js";
import { readCheckpoints } from "./checkpoints.js";
import { listSegments, segmentName, utcDay } from "./segment-files.js";
import { loadOrCreateSigningKey, readPublicKey } from "./signing-key.js";
import { verifyAuditLog } from "./verify-audit-log.js";

let fixture: AuditFixture;
afterEach(() => fixture.cleanup());

function verify() {
  return verifyAuditLog({ directory: fixture.directory, publicKey: fixture.key.publicKey });
}

function allRecords(paths: readonly string[]): AuditRecord[] {
  return paths.flatMap((path) => readLines(path).map((line) => JSON.parse(line) as AuditRecord));
}

describe("AuditLog records", () => {
  it("carry who, what, when, where, outcome, the syslog severity and the chain", async () => {
    fixture = createFixture();
    const log = await fixture.open();
    const record = await log.record({
      type: "authentication",
      level: "warning",
      action: "key-rejected",
      outcome: "denied",
      address: "192.0.2.7",
      details: { reason: "revoked" },
    });
    const next = await log.record({ type: "system", action: "stop", keyId: "rxd_admin1" });
    await log.close();
    expect(record).toMatchObject({
      seq: 1,
      time: "2026-01-01T12:00:00.000Z",
      node: "node-test",
      type: "authentication",
      level: "warning",
      severity: 4,
      action: "key-rejected",
      outcome: "denied",
      keyId: "anonymous-local",
      address: "192.0.2.7",
      prev: "0".repeat(64),
    });
    expect(next).toMatchObject({
      seq: 2,
      prev: record.hash,
      severity: 6,
      keyId: "rxd_admin1",
      outcome: "success",
    });
    const [path] = await segmentPaths(fixture);
    // Canonical JSON: keys sorted, so the line starts with "action".
    expect(readLines(path!)[0]).toMatch(/^\{"action":"key-rejected","address":"192\.0\.2\.7",/);
  });

  it("continue the chain after a reopen", async () => {
    fixture = createFixture();
    await writeHonestLog(fixture, 3);
    const log = await fixture.open();
    const record = await log.record({ type: "system", action: "start" });
    await log.close();
    expect(record.seq).toBe(4);
    expect((await verify()).findings).toEqual([]);
  });

  it("group-commit a burst: every record acknowledged, far fewer batches than records", async () => {
    fixture = createFixture();
    const log = await fixture.open({ checkpointEveryRecords: 1000 });
    const records = await Promise.all(
      Array.from({ length: 500 }, (_, index) => log.record({ type: "inference", action: `r${index}` })),
    );
    expect(records.map((record) => record.seq)).toEqual(Array.from({ length: 500 }, (_, index) => index + 1));
    expect(log.batchesWritten).toBeLessThanOrEqual(3);
    await log.close();
    expect((await verify()).records).toBe(500);
  });
});

describe("segments and checkpoints on fake time", () => {
  it("roll at the UTC day boundary and seal the old segment", async () => {
    fixture = createFixture();
    const log = await fixture.open();
    await log.record({ type: "system", action: "start" });
    fixture.time.advance(12 * 3_600_000);
    await log.record({ type: "system", action: "health-change" });
    await log.close();
    const segments = await listSegments(fixture.directory);
    expect(segments.map((segment) => segment.name)).toEqual([
      segmentName(1, "20260101"),
      segmentName(2, "20260102"),
    ]);
    expect(statSync(segments[0]!.path).mode & 0o777).toBe(0o444);
    expect((await verify()).findings).toEqual([]);
  });

  it("seal the segment found at open when the first record after a restart rolls past it", async () => {
    fixture = createFixture();
    await writeHonestLog(fixture, 2);
    fixture.time.advance(86_400_000);
    const log = await fixture.open();
    await log.record({ type: "system", action: "start" });
    await log.close();
    const segments = await listSegments(fixture.directory);
    expect(segments.map((segment) => statSync(segment.path).mode & 0o777)).toEqual([0o444, 0o644]);
    expect((await verify()).findings).toEqual([]);
  });

  it("sign a checkpoint every checkpointIntervalMs while records arrive", async () => {
    fixture = createFixture();
    const log = await fixture.open({ checkpointEveryRecords: 1000, checkpointIntervalMs: 60_000 });
    const signedSeqs = async () =>
      (await readCheckpoints(fixture.directory)).map((stored) => stored.checkpoint?.seq);
    await log.record({ type: "system", action: "start" });
    // The first batch of a session is signed at once (right after its records resolve).
    await log.flush();
    expect(await signedSeqs()).toEqual([1]);
    await log.record({ type: "system", action: "health-change" });
    expect(await signedSeqs()).toEqual([1]);
    await fixture.time.advanceAsync(60_000);
    await log.flush();
    expect(await signedSeqs()).toEqual([1, 2]);
    // Nothing new: the next interval signs nothing.
    await fixture.time.advanceAsync(60_000);
    await log.flush();
    expect(await signedSeqs()).toEqual([1, 2]);
    await log.close();
  });

  it("sign a checkpoint every checkpointEveryRecords records, in the witness folder too", async () => {
    fixture = createFixture();
    await writeHonestLog(fixture, 12);
    const seqs = (await readCheckpoints(fixture.directory)).map((stored) => stored.checkpoint?.seq);
    expect(seqs).toEqual([1, 6, 11, 12]);
    expect((await readCheckpoints(fixture.witness)).map((stored) => stored.checkpoint?.seq)).toEqual(seqs);
  });
});

describe("a torn last line after a crash", () => {
  it("is a warning for verify, cut at the next open with a system record, and verify is clean after", async () => {
    fixture = createFixture();
    await writeHonestLog(fixture, 6);
    const [path] = await segmentPaths(fixture);
    appendFileSync(path!, '{"action":"generate","address":"127.0.0.1","deta');
    const before = await verify();
    expect(before.intact).toBe(true);
    expect(before.findings).toEqual([
      expect.objectContaining({ kind: "torn-tail", severity: "warning", line: 7 }),
    ]);
    const log = await fixture.open();
    await log.close();
    const records = allRecords(await segmentPaths(fixture));
    expect(records.at(-1)).toMatchObject({
      seq: 7,
      type: "system",
      action: "torn-tail-repaired",
      level: "warning",
      details: { cutBytes: 48, lastIntactSeq: 6 },
    });
    expect((await verify()).findings).toEqual([]);
  });

  it("survives kill -9 during a write burst: repaired, verified, no acknowledged record missing", async () => {
    fixture = createFixture();
    const keyPath = join(fixture.root, "keys", "audit-signing.pem");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "audit-writer-child.testing.ts"),
        fixture.directory,
        keyPath,
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const acknowledged = await new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const seqs = output.split("\n").filter((line) => /^\d+$/.test(line));
        if (seqs.length >= 2000) {
          child.kill("SIGKILL");
          resolve(0);
        }
      });
      child.on("exit", (code, signal) => {
        if (signal !== "SIGKILL") reject(new Error(`writer exited early (${code}): ${stderr}`));
      });
    }).then(async () => {
      await new Promise((resolve) => child.once("close", resolve));
      return Math.max(
        ...output
          .split("\n")
          .filter((line) => /^\d+$/.test(line))
          .map(Number),
      );
    });
    expect(acknowledged).toBeGreaterThanOrEqual(2000);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const publicKey = await readPublicKey(`${keyPath}.pub`);

    // The child wrote with the system clock; the reopening writer goes on from there.
    fixture.time.setWall(systemTime.wallNow() + 1000);
    const log = await fixture.open({ signingKey: await loadOrCreateSigningKey(keyPath) });
    await log.close();
    // The child's lock was left behind by kill -9: taken over, and said so.
    const takeover = allRecords(await segmentPaths(fixture)).find(
      (record) => record.action === "writer-lock-taken-over",
    );
    expect(takeover?.details).toMatchObject({ stalePid: child.pid, staleKind: "server" });
    const report = await verifyAuditLog({ directory: fixture.directory, publicKey });
    // The child's last checkpoint may trail its last records; nothing else may be reported.
    expect(report.findings.filter((finding) => finding.kind !== "unsigned-tail")).toEqual([]);
    expect(report.intact).toBe(true);
    const seqs = new Set(allRecords(await segmentPaths(fixture)).map((record) => record.seq));
    for (let seq = 1; seq <= acknowledged; seq += 1) expect(seqs.has(seq)).toBe(true);
  }, 60_000);
});

describe("failure", () => {
  it("rejects records and reports not writable when the segment cannot be opened", async () => {
    fixture = createFixture();
    const log = await fixture.open();
    await log.record({ type: "system", action: "start" });
    // Tomorrow's segment path is taken by a folder: opening it for append fails.
    mkdirSync(join(fixture.directory, segmentName(2, utcDay(fixture.time.wallNow() + 86_400_000))));
    fixture.time.advance(86_400_000);
    await expect(log.record({ type: "system", action: "health-change" })).rejects.toThrow(
      /The audit log cannot be written: EISDIR/,
    );
    expect(log.isWritable).toBe(false);
    expect(log.health).toMatchObject({ state: "failed" });
    await expect(log.record({ type: "system", action: "x" })).rejects.toThrow(/cannot be written/);
    await log.close();
  });

  it("reports each health change once when an injected writer fails (disk full), and every waiting record rejects", async () => {
    fixture = createFixture();
    const files = testFiles();
    const changes: AuditHealth[] = [];
    const log = await fixture.open({ openSegmentFile: files.open, onHealthChange: (h) => changes.push(h) });
    await log.record({ type: "system", action: "start" });
    files.fail("ENOSPC");
    const burst = [1, 2, 3].map((n) =>
      log.record({ type: "inference", action: "generate", requestId: `r${n}` }),
    );
    for (const pending of burst) await expect(pending).rejects.toThrow(/cannot be written: ENOSPC/);
    expect(changes).toEqual([{ state: "failed", reason: expect.stringMatching(/ENOSPC/) as string }]);
    expect(log.health.state).toBe("failed");
    await log.close();
    // What reached the disk before the failure still verifies.
    expect((await verify()).intact).toBe(true);
  });
});

/** Checkpoint timers a year apart, so skipping a year of fake time fires a handful, not half a million. */
const yearMs = 365 * 86_400_000;

describe("retention", () => {
  it("purges whole sealed segments past retention with a record verify accepts; a plain deletion fails", async () => {
    fixture = createFixture();
    const log = await fixture.open({ checkpointIntervalMs: yearMs });
    for (let day = 0; day < 3; day += 1) {
      await log.record({ type: "system", action: `day-${day}` });
      fixture.time.advance(86_400_000);
    }
    fixture.time.advance(365 * 86_400_000);
    await log.record({ type: "system", action: "today" });
    const purged = await log.purgeExpired(365 * 86_400_000);
    await log.close();
    expect(purged.segments).toHaveLength(3);
    const report = await verify();
    expect(report.intact).toBe(true);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: "purged",
        severity: "notice",
        message: expect.stringMatching(/^records seq 1\.\.3 were purged by retention/),
      }),
    ]);
    const purge = allRecords(await segmentPaths(fixture)).find(
      (record) => record.action === "retention-purge",
    );
    expect(purge).toMatchObject({ type: "data", details: { fromSeq: 1, toSeq: 3, retentionDays: 365 } });

    // Without the purge record, the same gap is a deletion.
    const [path] = await segmentPaths(fixture);
    const kept = readLines(path!).filter((line) => !line.includes("retention-purge"));
    writeFileSync(path!, kept.map((line) => line + "\n").join(""));
    expect((await verify()).findings.map((finding) => finding.kind)).toContain("deleted-segment");
  });

  it("keeps segments younger than retention and the open segment", async () => {
    fixture = createFixture();
    const log = await fixture.open({ checkpointIntervalMs: yearMs });
    await log.record({ type: "system", action: "start" });
    fixture.time.advance(86_400_000);
    await log.record({ type: "system", action: "next-day" });
    expect((await log.purgeExpired(365 * 86_400_000)).segments).toEqual([]);
    fixture.time.advance(400 * 86_400_000);
    expect((await log.purgeExpired(365 * 86_400_000)).segments).toHaveLength(1);
    await log.close();
    expect(readFileSync(join(fixture.directory, "checkpoints.jsonl"), "utf8")).not.toBe("");
  });
});
