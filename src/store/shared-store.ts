/**
 * `--store postgres://…` (docs/decisions/0038-state-on-postgresql.md): the node's SQLite stays
 * where everything reads and writes synchronously; PostgreSQL becomes the authority for API
 * keys (SharedApiKeys, a local replica) and the shared home of what each node records (the
 * outbox and its replicator). PostgreSQL unreachable at start does not stop the node: it serves
 * with its local copy, logs it, and catches up once PostgreSQL answers.
 */
import type pg from "pg";
import type { Logger, TimePort } from "../core/index.js";
import { ApiKeyStore } from "./api-keys.js";
import type { Database } from "./database.js";
import { enableOutbox, storeNodeId } from "./outbox.js";
import { openPostgresPool, redactStoreUrl } from "./postgres-pool.js";
import { applyPostgresMigrations } from "./postgres-migrations.js";
import { OutboxReplicator } from "./replicator.js";
import { SharedApiKeys } from "./shared-keys.js";

export interface SharedStoreOptions {
  /** postgres://user[:password]@host:port/database */
  url: string;
  /** The node's SQLite. */
  database: Database;
  time: TimePort;
  logger: Logger;
  /** Default: the id kept in the node's database (store/outbox.ts). */
  nodeId?: string;
  /** Full key resync period (default 30 s). */
  keysResyncMs?: number;
  /** Between outbox shipments (default 1 s). */
  shipIntervalMs?: number;
}

export interface SharedStore {
  readonly nodeId: string;
  readonly keys: SharedApiKeys;
  readonly replicator: OutboxReplicator;
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

/** Validates the URL's scheme (settings and the keys CLI). */
export function isStoreUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** Migrates once per process while it succeeds; a failure is retried on the next use. */
function schemaOnce(pool: pg.Pool): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= applyPostgresMigrations(pool).then(
      () => undefined,
      (error: unknown) => {
        done = undefined;
        throw error;
      },
    );
    return done;
  };
}

export async function openSharedStore(options: SharedStoreOptions): Promise<SharedStore> {
  const { database, time, logger } = options;
  const pool = openPostgresPool(options.url, logger);
  const ensureSchema = schemaOnce(pool);
  enableOutbox(database);
  const nodeId = storeNodeId(database, options.nodeId);
  try {
    await ensureSchema();
  } catch (error) {
    logger.warn("The PostgreSQL store is unreachable at start; serving from the local state and retrying", {
      store: redactStoreUrl(options.url),
      error: error instanceof Error ? error.message : String(error),
    });
  }
  const keys = new SharedApiKeys({
    local: new ApiKeyStore(database, { time }),
    pool,
    url: options.url,
    time,
    logger,
    resyncMs: options.keysResyncMs,
    beforeResync: ensureSchema,
  });
  await keys.start();
  const replicator = new OutboxReplicator({
    database,
    pool,
    nodeId,
    time,
    logger,
    intervalMs: options.shipIntervalMs,
    beforeShipping: ensureSchema,
  });
  replicator.start();
  logger.info("State shared on PostgreSQL", { store: redactStoreUrl(options.url), nodeId });
  return {
    nodeId,
    keys,
    replicator,
    pool,
    async close() {
      await keys.close();
      await replicator.close();
      await pool.end().catch(() => {});
    },
  };
}
