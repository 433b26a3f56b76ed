/**
 * Reads records back for `rawrxd audit query` (and later the admin route): filters by time,
 * type, key and request id, and writes JSON lines or CSV (guarded against formula injection
 * by the metrics export's CSV writer).
 */
import { toCsv } from "../metrics/index.js";
import type { AuditRecord, AuditType } from "./audit-record.js";
import { canonicalJson } from "./canonical-json.js";
import { listSegments, readSegment, utcDay } from "./segment-files.js";

export interface AuditQuery {
  /** Records at or after this wall time (ms). */
  sinceMs?: number;
  /** Records before this wall time (ms). */
  untilMs?: number;
  types?: readonly AuditType[];
  keyId?: string;
  requestId?: string;
}

/** The matching records, oldest first. Segments wholly outside the time range are not read. */
export async function* queryAuditLog(directory: string, query: AuditQuery = {}): AsyncGenerator<AuditRecord> {
  const firstDay = query.sinceMs === undefined ? undefined : utcDay(query.sinceMs);
  const lastDay = query.untilMs === undefined ? undefined : utcDay(query.untilMs);
  for (const segment of await listSegments(directory)) {
    // A segment holds one UTC day, except after a wall-clock step back; read those anyway.
    if (lastDay !== undefined && segment.day > lastDay) continue;
    if (firstDay !== undefined && segment.day < firstDay) continue;
    for (const { record } of (await readSegment(segment.path)).lines)
      if (record !== undefined && matches(record, query)) yield record;
  }
}

function matches(record: AuditRecord, query: AuditQuery): boolean {
  const timeMs = Date.parse(record.time);
  if (query.sinceMs !== undefined && timeMs < query.sinceMs) return false;
  if (query.untilMs !== undefined && timeMs >= query.untilMs) return false;
  if (query.types !== undefined && !query.types.includes(record.type)) return false;
  if (query.keyId !== undefined && record.keyId !== query.keyId) return false;
  if (query.requestId !== undefined && record.requestId !== query.requestId) return false;
  return true;
}

/** One canonical record per line, as stored: an export keeps hashes checkable. */
export function auditRecordsJsonl(records: readonly AuditRecord[]): string {
  return records.map((record) => canonicalJson(record) + "\n").join("");
}

const csvHeader = [
  "seq",
  "time",
  "node",
  "type",
  "level",
  "severity",
  "action",
  "object",
  "outcome",
  "key_id",
  "address",
  "request_id",
  "details",
  "hash",
] as const;

export function auditRecordsCsv(records: readonly AuditRecord[]): string {
  return toCsv(
    csvHeader,
    records.map((record) => [
      record.seq,
      record.time,
      record.node,
      record.type,
      record.level,
      record.severity,
      record.action,
      record.object,
      record.outcome,
      record.keyId,
      record.address,
      record.requestId,
      canonicalJson(record.details),
      record.hash,
    ]),
  );
}
