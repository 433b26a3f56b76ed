/**
 * The schema, as numbered migrations. Append new ones (next version, never edit or reorder an
 * applied one); each runs once, in a transaction, and is recorded in `schema_migrations`.
 */
import type BetterSqlite3 from "better-sqlite3";

export interface Migration {
  /** 1, 2, 3… in list order. */
  version: number;
  /** Short kebab-case label stored beside the version. */
  name: string;
  up(connection: BetterSqlite3.Database): void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "metrics-request-log-and-rollups",
    up(connection) {
      // The last N finished requests (ops/metrics trims it); times in ms, ended_at in Unix ms.
      connection.exec(`
        CREATE TABLE request_log (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          request_id TEXT NOT NULL,
          ended_at INTEGER NOT NULL,
          model TEXT NOT NULL,
          priority TEXT NOT NULL,
          outcome TEXT NOT NULL,
          error_code TEXT,
          api_key_id TEXT,
          queue_ms REAL,
          load_ms REAL,
          prompt_ms REAL,
          ttft_ms REAL,
          decode_ms REAL,
          total_ms REAL NOT NULL,
          prompt_tokens INTEGER NOT NULL,
          completion_tokens INTEGER NOT NULL,
          cached_tokens INTEGER,
          preemptions INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX request_log_ended_at ON request_log (ended_at);
        -- One row per minute, model and priority: counters and quantile sketches as JSON.
        CREATE TABLE metric_rollups (
          minute INTEGER NOT NULL,
          model TEXT NOT NULL,
          priority TEXT NOT NULL,
          requests INTEGER NOT NULL,
          data TEXT NOT NULL,
          PRIMARY KEY (minute, model, priority)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    name: "api-keys",
    up(connection) {
      // Managed API keys: only the SHA-256 of each key is kept; times in Unix ms.
      connection.exec(`
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
          max_priority TEXT NOT NULL CHECK (max_priority IN ('high', 'normal', 'low')),
          key_sha256 BLOB NOT NULL,
          created_at INTEGER NOT NULL,
          revoked_at INTEGER
        ) WITHOUT ROWID;
      `);
    },
  },
];
