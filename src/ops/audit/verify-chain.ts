/**
 * Walks the records of every segment in order and names each break of the chain: a record
 * whose content no longer matches its hash, a gap, a duplicate, an inserted sibling, a swap,
 * a clock step back. Checkpoints are checked separately (verify-checkpoints.ts).
 */
import { hasValidHash, type AuditRecord } from "./audit-record.js";
import type { SegmentFile } from "./segment-files.js";
import type { AuditFinding } from "./verify-findings.js";

export interface LocatedLine {
  segment: SegmentFile;
  line: number;
  record: AuditRecord | undefined;
  /** First line of a segment that follows a gap in the segment numbering. */
  followsMissingSegment: boolean;
}

export interface ChainWalk {
  /** The records on the chain, by seq (inserted siblings and duplicates left out). */
  bySeq: Map<number, AuditRecord>;
  first: AuditRecord | undefined;
  last: AuditRecord | undefined;
  findings: AuditFinding[];
}

export function walkChain(lines: readonly LocatedLine[]): ChainWalk {
  const findings: AuditFinding[] = [];
  const bySeq = new Map<number, AuditRecord>();
  let first: AuditRecord | undefined;
  let previous: { record: AuditRecord; isValid: boolean } | undefined;
  let isResyncing = false;
  const at = (entry: LocatedLine) => ({ segment: entry.segment.name, line: entry.line });
  const accept = (record: AuditRecord, isValid: boolean): void => {
    bySeq.set(record.seq, record);
    first ??= record;
    previous = { record, isValid };
    isResyncing = false;
  };

  for (let index = 0; index < lines.length; index += 1) {
    const entry = lines[index]!;
    const record = entry.record;
    if (record === undefined) {
      findings.push({
        kind: "modified-record",
        severity: "error",
        message: "the line is not a well-formed audit record (edited or corrupted)",
        ...at(entry),
      });
      isResyncing = true;
      continue;
    }
    const isValid = hasValidHash(record);
    if (!isValid)
      findings.push({
        kind: "modified-record",
        severity: "error",
        message: "the record's content does not match its hash (edited after it was written)",
        ...at(entry),
        seq: record.seq,
      });
    if (previous === undefined) {
      accept(record, isValid);
      continue;
    }
    const before = previous.record;
    const expectedSeq = before.seq + 1;
    const next = lines[index + 1]?.record;
    if (record.seq === before.seq) {
      if (record.hash === before.hash) {
        findings.push({
          kind: "duplicated-sequence",
          severity: "error",
          message: `sequence number ${record.seq} appears twice (the record was copied)`,
          ...at(entry),
          seq: record.seq,
        });
      } else if (isValid && record.prev === before.prev) {
        // Two records claim the same place; the one the next record points to is the original.
        const isEarlierForged = next?.prev === record.hash;
        findings.push({
          kind: "inserted-record",
          severity: "error",
          message: `a record with a well-formed hash was inserted at seq ${record.seq}: the chain continues from the other record claiming that seq`,
          ...(isEarlierForged ? at(lines[index - 1]!) : at(entry)),
          seq: record.seq,
        });
        if (isEarlierForged) accept(record, isValid);
      } else {
        findings.push({
          kind: "duplicated-sequence",
          severity: "error",
          message: `two different records carry sequence number ${record.seq}`,
          ...at(entry),
          seq: record.seq,
        });
      }
      continue;
    }
    if (
      record.seq === expectedSeq + 1 &&
      next?.seq === expectedSeq &&
      next.prev === before.hash &&
      record.prev === next.hash
    ) {
      findings.push({
        kind: "swapped-records",
        severity: "error",
        message: `records seq ${expectedSeq} and ${record.seq} were swapped`,
        ...at(entry),
        seq: expectedSeq,
      });
      accept(next, hasValidHash(next));
      accept(record, isValid);
      index += 1;
      continue;
    }
    if (record.seq < before.seq) {
      findings.push({
        kind: "out-of-order",
        severity: "error",
        message: `record seq ${record.seq} appears after seq ${before.seq}`,
        ...at(entry),
        seq: record.seq,
      });
      continue;
    }
    if (record.seq > expectedSeq) {
      if (!entry.followsMissingSegment && !isResyncing)
        findings.push({
          kind: "deleted-records",
          severity: "error",
          message:
            record.seq === expectedSeq + 1
              ? `record seq ${expectedSeq} is missing`
              : `records seq ${expectedSeq}..${record.seq - 1} are missing`,
          ...at(entry),
          seq: expectedSeq,
        });
    } else if (record.prev !== before.hash && isValid && previous.isValid && !isResyncing) {
      findings.push({
        kind: "modified-record",
        severity: "error",
        message: `record seq ${before.seq} was replaced: seq ${record.seq} names a different predecessor hash`,
        ...at(entry),
        seq: before.seq,
      });
    }
    if (Date.parse(record.time) < Date.parse(before.time))
      findings.push({
        kind: "clock-backwards",
        severity: "warning",
        message: `the wall clock went back ${Date.parse(before.time) - Date.parse(record.time)} ms (${before.time} → ${record.time})`,
        ...at(entry),
        seq: record.seq,
      });
    accept(record, isValid);
  }
  return { bySeq, first, last: previous?.record, findings };
}
