/**
 * The audit routes, as a Hono sub-app src/app mounts on the API (admin keys only: every route a
 * `user` key may use is listed in api/access-rules.ts, and these are not):
 *   GET /v1/audit/verify   the verifier's report (`intact`, counts, each finding)
 *   GET /v1/audit/status   the log's health and head, and its witnesses (PostgreSQL: pending checkpoints)
 *   GET /v1/audit          records, oldest first: ?since ?until (ISO time, epoch ms or a span like 24h)
 *                          &type=a,b &key &request_id &after=SEQ &limit=N (≤ 1000) &format=json|jsonl|csv
 * Each read is itself recorded (a `data` record) by the caller-supplied `onRead`.
 */
import type { KeyObject } from "node:crypto";
import { Hono, type Context } from "hono";
import { AppError, systemTime, type TimePort } from "../../core/index.js";
import { auditRecordsCsv, auditRecordsJsonl, queryAuditLog, type AuditQuery } from "./audit-query.js";
import { auditTypes, type AuditRecord, type AuditType } from "./audit-record.js";
import { auditTimeForms, parseAuditTime } from "./audit-time.js";
import { verifyAuditLog } from "./verify-audit-log.js";

export interface AuditRead {
  action: "verify" | "query" | "status";
  context: Context;
  details: Record<string, unknown>;
}

export interface AuditRoutesOptions {
  directory: string;
  publicKey: KeyObject;
  witnessDirectory?: string;
  /** The clock spans like `since=24h` count back from. Default systemTime. */
  time?: TimePort;
  /** What GET /v1/audit/status answers (health, head, witness state); the route is absent without it. */
  status?: () => Record<string, unknown>;
  /** Called once per answered read, so the log records who read it. */
  onRead?: (read: AuditRead) => void;
}

const defaultLimit = 100;
const maxLimit = 1000;

export function createAuditRoutes(options: AuditRoutesOptions): Hono {
  const app = new Hono();
  app.get("/v1/audit/verify", async (context) => {
    const report = await verifyAuditLog({
      directory: options.directory,
      publicKey: options.publicKey,
      ...(options.witnessDirectory === undefined ? {} : { witnessDirectory: options.witnessDirectory }),
    });
    options.onRead?.({
      action: "verify",
      context,
      details: { intact: report.intact, records: report.records, findings: report.findings.length },
    });
    return context.json(report);
  });
  const status = options.status;
  if (status !== undefined)
    app.get("/v1/audit/status", (context) => {
      const body = status();
      options.onRead?.({ action: "status", context, details: {} });
      return context.json(body);
    });
  app.get("/v1/audit", async (context) => {
    const query = queryOf(context, (options.time ?? systemTime).wallNow());
    const afterSeq = integerParam(context, "after", 0) ?? -1;
    const limit = integerParam(context, "limit", 1) ?? defaultLimit;
    if (limit > maxLimit)
      throw new AppError("bad-request", `limit must be at most ${maxLimit}; got ${limit}.`, {
        param: "limit",
      });
    const records: AuditRecord[] = [];
    let hasMore = false;
    for await (const record of queryAuditLog(options.directory, query)) {
      if (record.seq <= afterSeq) continue;
      if (records.length === limit) {
        hasMore = true;
        break;
      }
      records.push(record);
    }
    const format = context.req.query("format") ?? "json";
    options.onRead?.({
      action: "query",
      context,
      details: { ...queryDetails(query), format, records: records.length },
    });
    const nextAfter = hasMore ? (records.at(-1)?.seq ?? null) : null;
    const headers: Record<string, string> = nextAfter === null ? {} : { "X-Next-After": String(nextAfter) };
    switch (format) {
      case "json":
        return context.json({ records, next_after: nextAfter }, 200, headers);
      case "jsonl":
        return context.body(auditRecordsJsonl(records), 200, {
          ...headers,
          "Content-Type": "application/x-ndjson",
        });
      case "csv":
        return context.body(auditRecordsCsv(records), 200, {
          ...headers,
          "Content-Type": "text/csv; charset=utf-8; header=present",
          "Content-Disposition": 'attachment; filename="rawrxd-audit.csv"',
        });
      default:
        throw new AppError("bad-request", `format must be json, jsonl or csv; got "${format}".`, {
          param: "format",
        });
    }
  });
  return app;
}

function queryOf(context: Context, nowMs: number): AuditQuery {
  const query: AuditQuery = {};
  const since = timeParam(context, "since", nowMs);
  const until = timeParam(context, "until", nowMs);
  if (since !== undefined) query.sinceMs = since;
  if (until !== undefined) query.untilMs = until;
  const types = context.req.query("type");
  if (types !== undefined) query.types = types.split(",").map((type) => auditTypeOf(type.trim()));
  const key = context.req.query("key");
  if (key !== undefined) query.keyId = key;
  const requestId = context.req.query("request_id");
  if (requestId !== undefined) query.requestId = requestId;
  return query;
}

function queryDetails(query: AuditQuery): Record<string, unknown> {
  return {
    since: query.sinceMs ?? null,
    until: query.untilMs ?? null,
    types: query.types ?? null,
    key: query.keyId ?? null,
    requestId: query.requestId ?? null,
  };
}

function auditTypeOf(value: string): AuditType {
  if ((auditTypes as readonly string[]).includes(value)) return value as AuditType;
  throw new AppError("bad-request", `type must be one of ${auditTypes.join(", ")}; got "${value}".`, {
    param: "type",
  });
}

function timeParam(context: Context, name: string, nowMs: number): number | undefined {
  const raw = context.req.query(name);
  if (raw === undefined) return undefined;
  const value = parseAuditTime(raw, nowMs);
  if (value === undefined)
    throw new AppError("bad-request", `${name} must be ${auditTimeForms}; got "${raw}".`, { param: name });
  return value;
}

function integerParam(context: Context, name: string, minimum: number): number | undefined {
  const raw = context.req.query(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < minimum)
    throw new AppError("bad-request", `${name} must be an integer of ${minimum} or more; got "${raw}".`, {
      param: name,
    });
  return value;
}
