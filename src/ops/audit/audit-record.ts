/**
 * The audit record: who (key id, source address), what (type, action, object), when (UTC time
 * and a gap-free sequence number), where (node id), outcome, and the hash chain that binds it
 * to the record before it (issue #11, NIST AU-3).
 */
import { hash as oneShotHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";

export const auditTypes = [
  "authentication",
  "inference",
  "model",
  "configuration",
  "data",
  "system",
] as const;
export type AuditType = (typeof auditTypes)[number];

export const auditLevels = ["debug", "info", "warning", "error", "critical"] as const;
export type AuditLevel = (typeof auditLevels)[number];

/** RFC 5424 severities; a level never filters an audit record out, it only grades it. */
export const syslogSeverity: Readonly<Record<AuditLevel, number>> = {
  debug: 7,
  info: 6,
  warning: 4,
  error: 3,
  critical: 2,
};

export type AuditOutcome = "success" | "failure" | "denied" | "cancelled";

/** Who acted when no API key was presented on a loopback server (issue #11 defaults). */
export const anonymousLocal = "anonymous-local";

/** What a caller hands to `AuditLog.record`; the log adds seq, time, node and the chain. */
export interface AuditEntry {
  type: AuditType;
  action: string;
  /** Default "info". */
  level?: AuditLevel;
  /** Default "success". */
  outcome?: AuditOutcome;
  /** What was acted on: a model name, a key id, a setting. */
  object?: string;
  /** API key id; default `anonymous-local`. */
  keyId?: string;
  /** Source address of the request, when there is one. */
  address?: string;
  requestId?: string;
  /** Type-specific details (token counts, before/after, error code); never prompt text by default. */
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  /** UTC, ISO 8601 with milliseconds. */
  time: string;
  node: string;
  type: AuditType;
  level: AuditLevel;
  severity: number;
  action: string;
  object: string | null;
  outcome: AuditOutcome;
  keyId: string;
  address: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  /** Hash of the record before this one (hex SHA-256); 64 zeros for the first record ever. */
  prev: string;
  /** SHA-256 of the canonical JSON of every other field. */
  hash: string;
}

export const genesisHash = "0".repeat(64);

export function hashRecord(record: Omit<AuditRecord, "hash">): string {
  return sha256Hex(canonicalJson(record));
}

function sha256Hex(text: string): string {
  // One-shot (no Hash object): the chain hash is computed for every record (ADR 0054).
  return oneShotHash("sha256", text, "hex");
}

/**
 * The record and its segment line (canonical JSON + LF), serialized once, by hand in key order:
 * the append path runs this per record, and the generic canonicalJson costs several times more.
 * A test holds it equal to canonicalJson of the record.
 */
export function buildRecordLine(
  entry: AuditEntry,
  chain: { seq: number; prev: string; timeMs: number; node: string },
): { record: AuditRecord; line: string } {
  const level = entry.level ?? "info";
  const body: Omit<AuditRecord, "hash"> = {
    seq: chain.seq,
    time: new Date(chain.timeMs).toISOString(),
    node: chain.node,
    type: entry.type,
    level,
    severity: syslogSeverity[level],
    action: entry.action,
    object: entry.object ?? null,
    outcome: entry.outcome ?? "success",
    keyId: entry.keyId ?? anonymousLocal,
    address: entry.address ?? null,
    requestId: entry.requestId ?? null,
    details: entry.details ?? {},
    prev: chain.prev,
  };
  const text = JSON.stringify;
  const head = `{"action":${text(body.action)},"address":${text(body.address)},"details":${canonicalJson(body.details)}`;
  const tail =
    `"keyId":${text(body.keyId)},"level":${text(level)},"node":${text(body.node)},"object":${text(body.object)},` +
    `"outcome":${text(body.outcome)},"prev":${text(body.prev)},"requestId":${text(body.requestId)},` +
    `"seq":${body.seq},"severity":${body.severity},"time":${text(body.time)},"type":${text(body.type)}}`;
  const hash = sha256Hex(`${head},${tail}`);
  return { record: { ...body, hash }, line: `${head},"hash":"${hash}",${tail}\n` };
}

export function buildRecord(
  entry: AuditEntry,
  chain: { seq: number; prev: string; timeMs: number; node: string },
): AuditRecord {
  return buildRecordLine(entry, chain).record;
}

/** One line of a segment file: canonical JSON plus LF. */
export function recordLine(record: AuditRecord): string {
  return canonicalJson(record) + "\n";
}

/** Parses one segment line; undefined when it is not a record (malformed or a field missing). */
export function parseRecordLine(line: string): AuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Partial<AuditRecord>;
  if (
    typeof record.seq !== "number" ||
    typeof record.time !== "string" ||
    typeof record.hash !== "string" ||
    typeof record.prev !== "string" ||
    typeof record.type !== "string"
  )
    return undefined;
  return record as AuditRecord;
}

/** True when the record's stored hash is the hash of its content. */
export function hasValidHash(record: AuditRecord): boolean {
  const { hash, ...body } = record;
  return hashRecord(body) === hash;
}
