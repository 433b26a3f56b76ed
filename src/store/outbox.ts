/**
 * The outbox of `--store`: SQLite triggers copy every new or changed row of the replicated tables
 * into `store_outbox` as JSON, in the same transaction as the write, so nothing a node records
 * can be missed or block on PostgreSQL (store/replicator.ts ships it). Without --store the
 * triggers are dropped and the outbox emptied: a single node pays nothing.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Database } from "./database.js";

export interface ReplicatedTable {
  name: string;
  /** The local primary key; in PostgreSQL it follows `node_id`. */
  key: readonly string[];
  /** Every column, key included. */
  columns: readonly string[];
}

/**
 * What each node ships. Not api_keys (PostgreSQL is their authority, store/shared-keys.ts) and
 * not sla_alert_deliveries (webhook bodies stay on the node).
 */
export const replicatedTables: readonly ReplicatedTable[] = [
  {
    name: "request_log",
    key: ["seq"],
    columns: [
      "seq",
      "request_id",
      "ended_at",
      "model",
      "priority",
      "outcome",
      "error_code",
      "api_key_id",
      "queue_ms",
      "load_ms",
      "prompt_ms",
      "ttft_ms",
      "decode_ms",
      "total_ms",
      "prompt_tokens",
      "completion_tokens",
      "cached_tokens",
      "preemptions",
    ],
  },
  {
    name: "metric_rollups",
    key: ["minute", "model", "priority"],
    columns: ["minute", "model", "priority", "requests", "data"],
  },
  {
    name: "sla_incidents",
    key: ["id"],
    columns: ["id", "start_ms", "end_ms", "worst_state", "cause", "requests_failed", "requests_rejected"],
  },
  { name: "sla_intervals", key: ["id"], columns: ["id", "start_ms", "end_ms", "state", "checks"] },
  { name: "sla_maintenance", key: ["id"], columns: ["id", "start_ms", "end_ms", "reason", "created_ms"] },
  {
    name: "backup_catalog",
    key: ["id"],
    columns: [
      "id",
      "kind",
      "ok",
      "ended_at",
      "duration_ms",
      "stored_bytes",
      "scheduled",
      "error",
      "pruned_at",
    ],
  },
];

const triggerName = (table: string, event: "insert" | "update"): string => `store_outbox_${table}_${event}`;

const jsonOf = (table: ReplicatedTable, prefix: string): string =>
  `json_object(${table.columns.map((column) => `'${column}', ${prefix}${column}`).join(", ")})`;

/**
 * Creates the triggers (idempotent). A table getting its triggers for the first time has its
 * existing rows queued too, so the shared store also gets what the node recorded before it
 * joined.
 */
export function enableOutbox(
  database: Database,
  tables: readonly ReplicatedTable[] = replicatedTables,
): void {
  const connection = database.connection;
  const hasTrigger = connection
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?")
    .pluck();
  connection.transaction(() => {
    for (const table of tables) {
      const json = jsonOf(table, "NEW.");
      if (hasTrigger.get(triggerName(table.name, "insert")) === undefined)
        connection.exec(
          `INSERT INTO store_outbox (table_name, row) SELECT '${table.name}', ${jsonOf(table, "")} FROM ${table.name}`,
        );
      for (const event of ["insert", "update"] as const)
        connection.exec(
          `CREATE TRIGGER IF NOT EXISTS ${triggerName(table.name, event)} AFTER ${event.toUpperCase()} ON ${table.name}
           BEGIN INSERT INTO store_outbox (table_name, row) VALUES ('${table.name}', ${json}); END`,
        );
    }
  })();
}

/** Drops the triggers and empties the outbox (idempotent): the node left the shared store. */
export function disableOutbox(
  database: Database,
  tables: readonly ReplicatedTable[] = replicatedTables,
): void {
  const connection = database.connection;
  connection.transaction(() => {
    for (const table of tables)
      for (const event of ["insert", "update"] as const)
        connection.exec(`DROP TRIGGER IF EXISTS ${triggerName(table.name, event)}`);
    connection.exec("DELETE FROM store_outbox");
  })();
}

/**
 * This data directory's node id in the shared tables: `--node-id` when given, else the one made
 * on the first start with --store (host name and 6 random hex digits), kept in the database.
 */
export function storeNodeId(database: Database, explicit?: string): string {
  const connection = database.connection;
  const stored = connection.prepare("SELECT node_id FROM store_identity WHERE only = 1").pluck().get() as
    string | undefined;
  const nodeId = explicit ?? stored ?? `${hostname()}-${randomBytes(3).toString("hex")}`;
  if (nodeId !== stored)
    connection
      .prepare(
        "INSERT INTO store_identity (only, node_id) VALUES (1, ?) ON CONFLICT (only) DO UPDATE SET node_id = excluded.node_id",
      )
      .run(nodeId);
  return nodeId;
}
