/**
 * The schema, as numbered migrations. Append new ones (next version, never edit or reorder an
 * applied one); each runs once, in a transaction, and is recorded in `schema_migrations`. One
 * list serves both databases (docs/decisions/0038-state-on-postgresql.md): `up` builds the
 * node's SQLite file, `postgres` the shared PostgreSQL of `--store`, where the tables the nodes
 * replicate into carry a `node_id` column in their primary key.
 */
import type BetterSqlite3 from "better-sqlite3";

export interface Migration {
  /** 1, 2, 3… in list order. */
  version: number;
  /** Short kebab-case label stored beside the version. */
  name: string;
  up(connection: BetterSqlite3.Database): void;
  /** The same step on the shared PostgreSQL (--store); absent: nothing to do there. */
  postgres?: string;
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
    // Times are DOUBLE PRECISION: SQLite keeps a fractional ms in an INTEGER column.
    postgres: `
      CREATE TABLE request_log (
        node_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        request_id TEXT NOT NULL,
        ended_at DOUBLE PRECISION NOT NULL,
        model TEXT NOT NULL,
        priority TEXT NOT NULL,
        outcome TEXT NOT NULL,
        error_code TEXT,
        api_key_id TEXT,
        queue_ms DOUBLE PRECISION,
        load_ms DOUBLE PRECISION,
        prompt_ms DOUBLE PRECISION,
        ttft_ms DOUBLE PRECISION,
        decode_ms DOUBLE PRECISION,
        total_ms DOUBLE PRECISION NOT NULL,
        prompt_tokens BIGINT NOT NULL,
        completion_tokens BIGINT NOT NULL,
        cached_tokens BIGINT,
        preemptions BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (node_id, seq)
      );
      CREATE INDEX request_log_ended_at ON request_log (ended_at);
      CREATE TABLE metric_rollups (
        node_id TEXT NOT NULL,
        minute DOUBLE PRECISION NOT NULL,
        model TEXT NOT NULL,
        priority TEXT NOT NULL,
        requests BIGINT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (node_id, minute, model, priority)
      );
    `,
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
    // The authority for keys: every node keeps a synchronous copy in its SQLite, told of each
    // change by this trigger's NOTIFY (store/shared-keys.ts).
    postgres: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        max_priority TEXT NOT NULL CHECK (max_priority IN ('high', 'normal', 'low')),
        key_sha256 BYTEA NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        revoked_at DOUBLE PRECISION
      );
      CREATE FUNCTION rawrxd_api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('rawrxd_api_keys', NEW.id);
        RETURN NEW;
      END $$;
      CREATE TRIGGER api_keys_notify AFTER INSERT OR UPDATE ON api_keys
        FOR EACH ROW EXECUTE FUNCTION rawrxd_api_keys_notify();
    `,
  },
  {
    version: 3,
    name: "sla-intervals-incidents-maintenance-alerts",
    up(connection) {
      // ops/sla. Times in Unix ms. The newest interval's end_ms is the heartbeat, moved every
      // health interval; a restart records the time since it as an `unknown` interval.
      connection.exec(`
        CREATE TABLE sla_intervals (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          start_ms INTEGER NOT NULL,
          end_ms INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('up', 'degraded', 'down', 'unknown')),
          checks TEXT
        );
        CREATE INDEX sla_intervals_end ON sla_intervals (end_ms);
        CREATE TABLE sla_incidents (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          start_ms INTEGER NOT NULL,
          end_ms INTEGER,
          worst_state TEXT NOT NULL CHECK (worst_state IN ('degraded', 'down', 'unknown')),
          cause TEXT NOT NULL,
          requests_failed INTEGER NOT NULL DEFAULT 0,
          requests_rejected INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX sla_incidents_start ON sla_incidents (start_ms);
        CREATE TABLE sla_maintenance (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          start_ms INTEGER NOT NULL,
          end_ms INTEGER NOT NULL CHECK (end_ms > start_ms),
          reason TEXT NOT NULL,
          created_ms INTEGER NOT NULL
        );
        CREATE TABLE sla_alert_deliveries (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          created_ms INTEGER NOT NULL,
          alert TEXT NOT NULL,
          severity TEXT NOT NULL,
          sink TEXT NOT NULL,
          outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'delivered', 'failed', 'dropped')),
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          done_ms INTEGER,
          body TEXT NOT NULL
        );
      `);
    },
    // Alert deliveries stay node-local (their bodies are webhook payloads).
    postgres: `
      CREATE TABLE sla_intervals (
        node_id TEXT NOT NULL,
        id BIGINT NOT NULL,
        start_ms DOUBLE PRECISION NOT NULL,
        end_ms DOUBLE PRECISION NOT NULL,
        state TEXT NOT NULL,
        checks TEXT,
        PRIMARY KEY (node_id, id)
      );
      CREATE INDEX sla_intervals_end ON sla_intervals (end_ms);
      CREATE TABLE sla_incidents (
        node_id TEXT NOT NULL,
        id BIGINT NOT NULL,
        start_ms DOUBLE PRECISION NOT NULL,
        end_ms DOUBLE PRECISION,
        worst_state TEXT NOT NULL,
        cause TEXT NOT NULL,
        requests_failed BIGINT NOT NULL DEFAULT 0,
        requests_rejected BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (node_id, id)
      );
      CREATE INDEX sla_incidents_start ON sla_incidents (start_ms);
      CREATE TABLE sla_maintenance (
        node_id TEXT NOT NULL,
        id BIGINT NOT NULL,
        start_ms DOUBLE PRECISION NOT NULL,
        end_ms DOUBLE PRECISION NOT NULL,
        reason TEXT NOT NULL,
        created_ms DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (node_id, id)
      );
    `,
  },
  {
    version: 4,
    name: "store-outbox",
    up(connection) {
      // --store (store/outbox.ts): triggers copy each new or changed row of a replicated table
      // here as JSON; the replicator ships them to PostgreSQL and moves the table's high-water
      // mark. The node id names this data directory's rows in the shared tables.
      connection.exec(`
        CREATE TABLE store_outbox (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          table_name TEXT NOT NULL,
          row TEXT NOT NULL
        );
        CREATE INDEX store_outbox_table ON store_outbox (table_name, seq);
        CREATE TABLE store_shipped (
          table_name TEXT PRIMARY KEY,
          seq INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE store_identity (
          only INTEGER PRIMARY KEY CHECK (only = 1),
          node_id TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 5,
    name: "backup-catalog",
    up(connection) {
      // With --store (store/backup-catalog.ts): one row per backup this node made (from the
      // backup-end event) and when it was pruned, shipped through the outbox. The signed
      // manifests in the backup folder stay the truth for restores.
      connection.exec(`
        CREATE TABLE backup_catalog (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          ok INTEGER NOT NULL,
          ended_at REAL NOT NULL,
          duration_ms REAL NOT NULL,
          stored_bytes INTEGER NOT NULL,
          scheduled INTEGER NOT NULL,
          error TEXT,
          pruned_at REAL
        ) WITHOUT ROWID;
      `);
    },
    postgres: `
      CREATE TABLE backup_catalog (
        node_id TEXT NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        ok INTEGER NOT NULL,
        ended_at DOUBLE PRECISION NOT NULL,
        duration_ms DOUBLE PRECISION NOT NULL,
        stored_bytes BIGINT NOT NULL,
        scheduled INTEGER NOT NULL,
        error TEXT,
        pruned_at DOUBLE PRECISION,
        PRIMARY KEY (node_id, id)
      );
    `,
  },
];
