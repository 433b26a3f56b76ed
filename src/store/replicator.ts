/**
 * Ships the outbox (store/outbox.ts) to the shared PostgreSQL: per table, the rows after its
 * high-water mark in batches, each batch one upsert keyed by node id + local key, then the mark
 * moves and the shipped outbox rows go. Idempotent (a batch shipped twice after a crash between
 * the PostgreSQL commit and the mark writes the same rows again), resumable (the marks live in
 * the node's SQLite) and never in the way: it runs on a timer, PostgreSQL unreachable only
 * delays it (one warning when it fails, one line when it recovers), and the outbox is capped.
 */
import type pg from "pg";
import type { Logger, TimePort, Timer } from "../core/index.js";
import type { Database } from "./database.js";
import { replicatedTables, type ReplicatedTable } from "./outbox.js";

export interface ReplicatorOptions {
  database: Database;
  pool: pg.Pool;
  nodeId: string;
  time: TimePort;
  logger: Logger;
  /** Between shipments. Default 1 s. */
  intervalMs?: number;
  /** Rows per upsert. Default 500. */
  batchSize?: number;
  /** Outbox rows kept per table while PostgreSQL is unreachable; older ones are dropped. Default 100 000. */
  maxPendingRows?: number;
  tables?: readonly ReplicatedTable[];
  /** Run before each shipment (the schema check); a rejection counts as PostgreSQL failing. */
  beforeShipping?: () => Promise<void>;
}

interface OutboxRow {
  seq: number;
  row: string;
}

export class OutboxReplicator {
  readonly #options: ReplicatorOptions;
  readonly #tables: readonly ReplicatedTable[];
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #isFailing = false;
  #isClosed = false;
  /** Rows shipped since start, per table (tests and logs). */
  readonly shipped = new Map<string, number>();

  constructor(options: ReplicatorOptions) {
    this.#options = options;
    this.#tables = options.tables ?? replicatedTables;
  }

  start(): void {
    const intervalMs = this.#options.intervalMs ?? 1000;
    this.#timer = this.#options.time.setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** Rows waiting in the outbox. */
  pending(): number {
    return this.#options.database.connection
      .prepare("SELECT COUNT(*) FROM store_outbox")
      .pluck()
      .get() as number;
  }

  /** One shipment of everything pending (joins one in progress); never rejects. */
  flush(): Promise<void> {
    if (this.#isClosed) return Promise.resolve();
    this.#running ??= this.#shipAll().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #shipAll(): Promise<void> {
    let failure: unknown = undefined;
    try {
      await this.#options.beforeShipping?.();
      // Each table on its own: one that fails (a row PostgreSQL refuses) does not hold up the rest.
      for (const table of this.#tables) {
        try {
          while ((await this.#shipBatch(table)) > 0 && !this.#isClosed);
        } catch (error) {
          failure ??= error;
        }
      }
    } catch (error) {
      failure = error;
    }
    if (failure === undefined) {
      if (this.#isFailing) this.#options.logger.info("Shipping state to the PostgreSQL store again");
      this.#isFailing = false;
      return;
    }
    if (!this.#isFailing)
      this.#options.logger.warn(
        "Could not ship state to the PostgreSQL store; the node keeps recording locally and retries",
        { error: failure instanceof Error ? failure.message : JSON.stringify(failure) },
      );
    this.#isFailing = true;
    this.#capOutbox();
  }

  /** Ships one batch of a table; returns how many outbox rows it took. */
  async #shipBatch(table: ReplicatedTable): Promise<number> {
    const connection = this.#options.database.connection;
    const mark =
      (connection.prepare("SELECT seq FROM store_shipped WHERE table_name = ?").pluck().get(table.name) as
        number | undefined) ?? 0;
    const batch = connection
      .prepare("SELECT seq, row FROM store_outbox WHERE table_name = ? AND seq > ? ORDER BY seq LIMIT ?")
      .all(table.name, mark, this.#options.batchSize ?? 500) as OutboxRow[];
    if (batch.length === 0) return 0;
    // One row changed twice in a batch: the newest copy (one upsert cannot touch a row twice).
    const newest = new Map<string, Record<string, unknown>>();
    for (const item of batch) {
      const row = JSON.parse(item.row) as Record<string, unknown>;
      newest.set(JSON.stringify(table.key.map((column) => row[column])), row);
    }
    await this.#options.pool.query(upsertSql(table, newest.size), [
      ...[...newest.values()].flatMap((row) => [
        this.#options.nodeId,
        ...table.columns.map((column) => row[column] ?? null),
      ]),
    ]);
    const last = batch.at(-1)!.seq;
    if (this.#options.database.isClosed) return 0;
    connection.transaction(() => {
      connection
        .prepare(
          "INSERT INTO store_shipped (table_name, seq) VALUES (?, ?) ON CONFLICT (table_name) DO UPDATE SET seq = excluded.seq",
        )
        .run(table.name, last);
      connection.prepare("DELETE FROM store_outbox WHERE table_name = ? AND seq <= ?").run(table.name, last);
    })();
    this.shipped.set(table.name, (this.shipped.get(table.name) ?? 0) + newest.size);
    return batch.length;
  }

  #capOutbox(): void {
    const database = this.#options.database;
    if (database.isClosed) return;
    const max = this.#options.maxPendingRows ?? 100_000;
    for (const table of this.#tables) {
      const dropped = database.connection
        .prepare(
          `DELETE FROM store_outbox WHERE table_name = ? AND seq <= (SELECT MAX(seq) FROM store_outbox WHERE table_name = ?) - ?`,
        )
        .run(table.name, table.name, max).changes;
      if (dropped > 0)
        this.#options.logger.warn("The PostgreSQL store is unreachable; dropped the oldest unshipped rows", {
          table: table.name,
          dropped,
        });
    }
  }

  /**
   * Stops: waits for a shipment in progress, then ships what is left unless PostgreSQL is
   * failing (the outbox keeps it for the next start).
   */
  async close(): Promise<void> {
    this.#timer?.cancel();
    await this.#running;
    if (!this.#isFailing) await this.flush();
    this.#isClosed = true;
  }
}

function upsertSql(table: ReplicatedTable, rows: number): string {
  const columns = ["node_id", ...table.columns];
  const values = Array.from(
    { length: rows },
    (_, row) => `(${columns.map((_, column) => `$${row * columns.length + column + 1}`).join(", ")})`,
  );
  const updates = table.columns
    .filter((column) => !table.key.includes(column))
    .map((column) => `${column} = EXCLUDED.${column}`);
  return `INSERT INTO ${table.name} (${columns.join(", ")}) VALUES ${values.join(", ")}
    ON CONFLICT (node_id, ${table.key.join(", ")}) DO ${updates.length === 0 ? "NOTHING" : `UPDATE SET ${updates.join(", ")}`}`;
}
