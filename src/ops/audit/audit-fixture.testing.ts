/** Builds honest audit logs in temporary folders for the tamper corpus, and edits them as an attacker would. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeTime } from "../../core/index.js";
import { AuditLog, type AuditLogOptions } from "./audit-log.js";
import { generateSigningKey, type AuditSigningKey } from "./signing-key.js";
import { listSegments } from "./segment-files.js";

export const startMs = Date.UTC(2026, 0, 1, 12, 0, 0);

export interface AuditFixture {
  root: string;
  directory: string;
  witness: string;
  key: AuditSigningKey;
  time: FakeTime;
  open(overrides?: Partial<AuditLogOptions>): Promise<AuditLog>;
  cleanup(): void;
}

export function createFixture(): AuditFixture {
  const root = mkdtempSync(join(tmpdir(), "rawrxd-audit-"));
  const key = generateSigningKey();
  const time = new FakeTime({ wallMs: startMs });
  const fixture: AuditFixture = {
    root,
    directory: join(root, "audit"),
    witness: join(root, "witness"),
    key,
    time,
    open: (overrides = {}) =>
      AuditLog.open({
        directory: fixture.directory,
        signingKey: fixture.key,
        nodeId: "node-test",
        time,
        checkpointEveryRecords: 5,
        witnessDirectory: fixture.witness,
        ...overrides,
      }),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
  return fixture;
}

/** Writes `count` inference records, one millisecond apart, and closes the log (a final checkpoint). */
export async function writeHonestLog(
  fixture: AuditFixture,
  count: number,
  overrides: Partial<AuditLogOptions> = {},
): Promise<void> {
  const log = await fixture.open(overrides);
  for (let index = 1; index <= count; index += 1) {
    fixture.time.advance(1);
    await log.record({
      type: "inference",
      action: "generate",
      object: "stories260K",
      keyId: index % 2 === 0 ? "rxd_user01" : "rxd_admin1",
      address: "127.0.0.1",
      requestId: `request-${index}`,
      details: { promptTokens: index, outputTokens: 2 * index },
    });
  }
  await log.close();
}

export async function segmentPaths(fixture: AuditFixture): Promise<string[]> {
  return (await listSegments(fixture.directory)).map((segment) => segment.path);
}

/** The lines of a file without their LFs. */
export function readLines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").slice(0, -1);
}

/** Rewrites a (possibly sealed, read-only) file as someone with the disk would. */
export function writeLines(path: string, lines: readonly string[]): void {
  chmodSync(path, 0o644);
  writeFileSync(path, lines.map((line) => line + "\n").join(""));
}
