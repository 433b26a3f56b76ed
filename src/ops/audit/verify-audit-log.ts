/**
 * `verifyAuditLog`: checks an audit folder with only the public key. Recomputes every hash,
 * walks the chain across segments, checks every checkpoint's signature and head (and the
 * witness copies), and tells a retention purge or a torn last line from tampering.
 */
import type { KeyObject } from "node:crypto";
import type { AuditRecord } from "./audit-record.js";
import {
  hasValidSignature,
  readCheckpoints,
  checkpointFileName,
  type StoredCheckpoint,
} from "./checkpoints.js";
import { listSegments, readSegment, type SegmentFile } from "./segment-files.js";
import { publicKeyId } from "./signing-key.js";
import { walkChain, type LocatedLine } from "./verify-chain.js";
import type { AuditFinding, AuditVerifyReport } from "./verify-findings.js";

export interface VerifyAuditLogOptions {
  directory: string;
  publicKey: KeyObject;
  /** The witness folder that received copies of the checkpoints. */
  witnessDirectory?: string;
  /** Verify only records at or after this wall time (ms); the chain is anchored at the first. */
  fromMs?: number;
  /** Verify only records at or before this wall time (ms); the tail is not judged then. */
  toMs?: number;
  /**
   * Checkpoints witnessed elsewhere (the PostgreSQL witness): each must verify with the public
   * key and match the chain, like the witness folder's. `label` names the source in findings.
   */
  witnessedCheckpoints?: { label: string; checkpoints: WitnessedCheckpointEntry[] };
}

/** A witnessed checkpoint and, when the witness knows it, the segment said to hold its record. */
export interface WitnessedCheckpointEntry extends StoredCheckpoint {
  segment?: string;
}

export async function verifyAuditLog(options: VerifyAuditLogOptions): Promise<AuditVerifyReport> {
  const findings: AuditFinding[] = [];
  const segments = await listSegments(options.directory);
  const lines = await readLines(segments, findings);
  const isRanged = options.fromMs !== undefined || options.toMs !== undefined;
  const inRange = isRanged
    ? lines.filter((entry) => entry.record !== undefined && isWithin(entry.record, options))
    : lines;
  const walk = walkChain(inRange);
  findings.push(...walk.findings);
  if (!isRanged) findings.push(...segmentGaps(segments, walk));

  const keyName = publicKeyId(options.publicKey);
  const checks = { publicKey: options.publicKey, keyName, isRanged, walk };
  const local = checkCheckpoints(
    await readCheckpoints(options.directory),
    { where: checkpointFileName, source: "checkpoint" },
    checks,
  );
  findings.push(...local.findings);
  let witnessCheckpointsVerified = 0;
  if (options.witnessDirectory !== undefined) {
    const stored = await readCheckpoints(options.witnessDirectory);
    const witness = checkCheckpoints(
      stored,
      { where: `witness ${checkpointFileName}`, source: "witness" },
      checks,
    );
    findings.push(...witness.findings);
    witnessCheckpointsVerified += witness.verified;
  }
  if (options.witnessedCheckpoints !== undefined) {
    const { label, checkpoints } = options.witnessedCheckpoints;
    const witness = checkCheckpoints(checkpoints, { where: label, source: "witness-table" }, checks);
    findings.push(...witness.findings);
    witnessCheckpointsVerified += witness.verified;
  }
  if (!isRanged && walk.last !== undefined && local.verified === 0) {
    // The writer signs its first batch at once, so records without any checkpoint were not
    // written by it: the checkpoints were removed, or the log was written with another key.
    findings.push({
      kind: "missing-checkpoints",
      severity: "error",
      message: `no checkpoint verifies with public key ${keyName}: the checkpoints were deleted or the log was not signed with this key`,
    });
  } else if (!isRanged && walk.last !== undefined && local.highestSeq < walk.last.seq) {
    const from = local.highestSeq + 1;
    findings.push({
      kind: "unsigned-tail",
      severity: "warning",
      message: `records seq ${from}..${walk.last.seq} are not yet covered by a signed checkpoint`,
      seq: from,
    });
  }
  return {
    intact: findings.every((finding) => finding.severity !== "error"),
    records: walk.bySeq.size,
    firstSeq: walk.first?.seq ?? null,
    lastSeq: walk.last?.seq ?? null,
    checkpointsVerified: local.verified,
    witnessCheckpointsVerified,
    findings,
  };
}

function isWithin(record: AuditRecord, options: VerifyAuditLogOptions): boolean {
  const timeMs = Date.parse(record.time);
  return (options.fromMs ?? -Infinity) <= timeMs && timeMs <= (options.toMs ?? Infinity);
}

async function readLines(segments: readonly SegmentFile[], findings: AuditFinding[]): Promise<LocatedLine[]> {
  const lines: LocatedLine[] = [];
  for (const [position, segment] of segments.entries()) {
    const content = await readSegment(segment.path);
    const followsGap = position > 0 && segment.index !== segments[position - 1]!.index + 1;
    for (const [offset, line] of content.lines.entries())
      lines.push({
        segment,
        line: line.line,
        record: line.record,
        followsMissingSegment: followsGap && offset === 0,
      });
    if (content.tornTail === "") continue;
    const isNewest = position === segments.length - 1;
    findings.push({
      kind: isNewest ? "torn-tail" : "modified-record",
      severity: isNewest ? "warning" : "error",
      message: isNewest
        ? `the last ${Buffer.byteLength(content.tornTail)} bytes are a record cut short by a crash; the next open cuts them and records it`
        : "a sealed segment ends in a partial line",
      segment: segment.name,
      line: content.lines.length + 1,
    });
  }
  return lines;
}

/** Missing segment numbers, and records missing before the first one (purged or deleted). */
function segmentGaps(segments: readonly SegmentFile[], walk: ReturnType<typeof walkChain>): AuditFinding[] {
  const findings: AuditFinding[] = [];
  for (let position = 1; position < segments.length; position += 1) {
    const before = segments[position - 1]!;
    const after = segments[position]!;
    if (after.index === before.index + 1) continue;
    findings.push({
      kind: "deleted-segment",
      severity: "error",
      message: `segment number${after.index - before.index > 2 ? "s" : ""} ${before.index + 1}${after.index - before.index > 2 ? `..${after.index - 1}` : ""} between ${before.name} and ${after.name} is missing`,
      segment: after.name,
    });
  }
  const first = walk.first;
  if (first === undefined || first.seq === 1) return findings;
  const purge = [...walk.bySeq.values()].find(
    (record) =>
      record.type === "data" &&
      record.action === "retention-purge" &&
      record.details["toSeq"] === first.seq - 1 &&
      record.details["lastHash"] === first.prev,
  );
  findings.push(
    purge === undefined
      ? {
          kind: "deleted-segment",
          severity: "error",
          message: `records seq 1..${first.seq - 1} are missing and no retention purge record accounts for them`,
          segment: segments[0]?.name,
          seq: 1,
        }
      : {
          kind: "purged",
          severity: "notice",
          message: `records seq ${String(purge.details["fromSeq"])}..${first.seq - 1} were purged by retention (record seq ${purge.seq} at ${purge.time})`,
          seq: purge.seq,
        },
  );
  return findings;
}

function checkCheckpoints(
  storedCheckpoints: readonly WitnessedCheckpointEntry[],
  /**
   * `where` names the source in findings. `witness-table`: rows anyone with database access
   * could insert, so a bad signature is a forgery whatever key id it names.
   */
  { where, source }: { where: string; source: "checkpoint" | "witness" | "witness-table" },
  checks: { publicKey: KeyObject; keyName: string; isRanged: boolean; walk: ReturnType<typeof walkChain> },
): { findings: AuditFinding[]; verified: number; highestSeq: number } {
  const findings: AuditFinding[] = [];
  const { walk } = checks;
  let verified = 0;
  let highestSeq = 0;
  for (const stored of storedCheckpoints) {
    const checkpoint = stored.checkpoint;
    if (
      source === "witness" &&
      checkpoint !== undefined &&
      checkpoint.keyId !== checks.keyName &&
      !hasValidSignature(checkpoint, checks.publicKey)
    ) {
      // The witness kept checkpoints of another key: the folder and its key were replaced.
      findings.push({
        kind: "witness-mismatch",
        severity: "error",
        message: `the log was rewritten with another key: the witness holds a checkpoint of seq ${checkpoint.seq} signed at ${checkpoint.time} with key ${checkpoint.keyId}, the log and public key ${checks.keyName} do not match it`,
        segment: where,
        line: stored.line,
        seq: checkpoint.seq,
      });
      continue;
    }
    if (checkpoint === undefined || !hasValidSignature(checkpoint, checks.publicKey)) {
      findings.push({
        kind: "forged-checkpoint",
        severity: "error",
        message: `the signature does not verify with public key ${checks.keyName}${checkpoint?.keyId !== undefined && checkpoint.keyId !== checks.keyName ? ` (it names key ${checkpoint.keyId})` : ""}`,
        segment: where,
        line: stored.line,
        seq: checkpoint?.seq,
      });
      continue;
    }
    const record = walk.bySeq.get(checkpoint.seq);
    if (record === undefined) {
      if (checks.isRanged || (walk.first !== undefined && checkpoint.seq < walk.first.seq)) continue;
      if (walk.last === undefined || checkpoint.seq > walk.last.seq) {
        findings.push({
          kind: "truncated-tail",
          severity: "error",
          message: `the log ends at seq ${walk.last?.seq ?? 0} but a checkpoint signed at ${checkpoint.time} covers seq ${checkpoint.seq}: ${checkpoint.seq - (walk.last?.seq ?? 0)} records are gone from the end`,
          segment: where,
          line: stored.line,
          seq: checkpoint.seq,
        });
      }
      continue;
    }
    if (record.hash !== checkpoint.head) {
      findings.push({
        kind: source === "checkpoint" ? "checkpoint-mismatch" : "witness-mismatch",
        severity: "error",
        message: `records up to seq ${checkpoint.seq} were rewritten: the head signed at ${checkpoint.time} is ${checkpoint.head.slice(0, 16)}…, the log has ${record.hash.slice(0, 16)}…`,
        segment: where,
        line: stored.line,
        seq: checkpoint.seq,
      });
      continue;
    }
    verified += 1;
    highestSeq = Math.max(highestSeq, checkpoint.seq);
  }
  return { findings, verified, highestSeq };
}
