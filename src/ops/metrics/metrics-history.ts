/**
 * What the metrics keep in the state database: the request log (the last N requests) and
 * per-minute rollups per model and priority (counters plus quantile sketches, so any range of
 * minutes merges into exact-bound percentiles). Written in one transaction per collector tick.
 */
import type BetterSqlite3 from "better-sqlite3";
import type { Database } from "../../store/index.js";
import type { Priority, WallMs } from "../../core/index.js";
import type { RequestRecord } from "./request-record.js";
import { SeriesStats, type SeriesData } from "./series-stats.js";

export interface RollupRow {
  /** When the minute starts (wall clock: rollups are calendar minutes). */
  minuteMs: WallMs;
  model: string;
  priority: Priority;
  stats: SeriesStats;
}

export interface PersistBatch {
  requests: readonly RequestRecord[];
  rollups: readonly RollupRow[];
  /** Keep only this many newest rows of the request log. */
  keepRequests: number;
  /** Delete rollups of minutes before this (retention); undefined skips pruning. */
  pruneBeforeMs: WallMs | undefined;
}

interface RequestRow {
  request_id: string;
  ended_at: number;
  model: string;
  priority: string;
  outcome: string;
  error_code: string | null;
  api_key_id: string | null;
  queue_ms: number | null;
  load_ms: number | null;
  prompt_ms: number | null;
  ttft_ms: number | null;
  decode_ms: number | null;
  total_ms: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number | null;
  preemptions: number;
}

type Statement = BetterSqlite3.Statement;

export class MetricsHistory {
  readonly #database: Database;
  readonly #statements: Record<"insertRequest" | "trimRequests" | "upsertRollup" | "pruneRollups", Statement>;

  constructor(database: Database) {
    this.#database = database;
    const connection = database.connection;
    this.#statements = {
      insertRequest: connection.prepare(
        `INSERT INTO request_log (request_id, ended_at, model, priority, outcome, error_code, api_key_id, queue_ms, load_ms, prompt_ms, ttft_ms, decode_ms, total_ms, prompt_tokens, completion_tokens, cached_tokens, preemptions)
         VALUES (@request_id, @ended_at, @model, @priority, @outcome, @error_code, @api_key_id, @queue_ms, @load_ms, @prompt_ms, @ttft_ms, @decode_ms, @total_ms, @prompt_tokens, @completion_tokens, @cached_tokens, @preemptions)`,
      ),
      trimRequests: connection.prepare(
        "DELETE FROM request_log WHERE seq <= (SELECT MAX(seq) FROM request_log) - ?",
      ),
      upsertRollup: connection.prepare(
        "INSERT OR REPLACE INTO metric_rollups (minute, model, priority, requests, data) VALUES (?, ?, ?, ?, ?)",
      ),
      pruneRollups: connection.prepare("DELETE FROM metric_rollups WHERE minute < ?"),
    };
  }

  persist(batch: PersistBatch): void {
    const statements = this.#statements;
    this.#database.connection.transaction(() => {
      for (const record of batch.requests) statements.insertRequest.run(toRow(record));
      if (batch.requests.length > 0) statements.trimRequests.run(batch.keepRequests);
      for (const rollup of batch.rollups) {
        statements.upsertRollup.run(
          rollup.minuteMs,
          rollup.model,
          rollup.priority,
          rollup.stats.requests,
          JSON.stringify(rollup.stats.toData()),
        );
      }
      if (batch.pruneBeforeMs !== undefined) statements.pruneRollups.run(batch.pruneBeforeMs);
    })();
  }

  /** Rollups of minutes starting at or after `sinceMs`, oldest first. */
  loadRollups(sinceMs: WallMs): RollupRow[] {
    const rows = this.#database.connection
      .prepare(
        "SELECT minute, model, priority, data FROM metric_rollups WHERE minute >= ? ORDER BY minute, model, priority",
      )
      .all(sinceMs) as { minute: number; model: string; priority: Priority; data: string }[];
    return rows.map((row) => ({
      minuteMs: row.minute as WallMs,
      model: row.model,
      priority: row.priority,
      stats: SeriesStats.fromData(JSON.parse(row.data) as SeriesData),
    }));
  }

  /** The newest `limit` requests, oldest first. */
  loadRequests(limit: number): RequestRecord[] {
    const rows = this.#database.connection
      .prepare("SELECT * FROM request_log ORDER BY seq DESC LIMIT ?")
      .all(limit) as RequestRow[];
    return rows.reverse().map(fromRow);
  }
}

function toRow(record: RequestRecord): RequestRow {
  return {
    request_id: record.requestId,
    ended_at: Math.round(record.endedAtMs),
    model: record.model,
    priority: record.priority,
    outcome: record.outcome,
    error_code: record.errorCode ?? null,
    api_key_id: record.apiKeyId ?? null,
    queue_ms: record.queueMs ?? null,
    load_ms: record.loadMs ?? null,
    prompt_ms: record.promptMs ?? null,
    ttft_ms: record.timeToFirstTokenMs ?? null,
    decode_ms: record.decodeMs ?? null,
    total_ms: record.totalMs,
    prompt_tokens: record.promptTokens,
    completion_tokens: record.completionTokens,
    cached_tokens: record.cachedTokens ?? null,
    preemptions: record.preemptions,
  };
}

function fromRow(row: RequestRow): RequestRecord {
  return {
    requestId: row.request_id,
    endedAtMs: row.ended_at as WallMs,
    model: row.model,
    priority: row.priority as Priority,
    outcome: row.outcome as RequestRecord["outcome"],
    errorCode: row.error_code ?? undefined,
    apiKeyId: row.api_key_id ?? undefined,
    queueMs: row.queue_ms ?? undefined,
    loadMs: row.load_ms ?? undefined,
    promptMs: row.prompt_ms ?? undefined,
    timeToFirstTokenMs: row.ttft_ms ?? undefined,
    decodeMs: row.decode_ms ?? undefined,
    totalMs: row.total_ms,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    cachedTokens: row.cached_tokens ?? undefined,
    preemptions: row.preemptions,
  };
}
