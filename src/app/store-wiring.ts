/**
 * The state the server keeps: the node's SQLite always; with --store also the shared PostgreSQL
 * (docs/decisions/0038-state-on-postgresql.md), which then holds the authority for API keys
 * and receives what this node records. Without --store, whatever a past --store start left
 * (the outbox triggers and rows) is removed, so a single node pays nothing for it.
 */
import type { Config } from "../config/index.js";
import type { ApiKeyRegistry, EventBus, Logger, TimePort } from "../core/index.js";
import {
  ApiKeyStore,
  BackupCatalogTable,
  disableOutbox,
  openSharedStore,
  type Database,
  type SharedStore,
} from "../store/index.js";

export interface ServerState {
  keys: ApiKeyRegistry;
  /** Undefined without --store. */
  store: SharedStore | undefined;
  /** Ships what is left and stops (before the database closes); idempotent. */
  close(): Promise<void>;
}

export async function openServerState(
  config: Readonly<Config>,
  database: Database,
  options: { time: TimePort; logger: Logger; events: EventBus; nodeId?: string | undefined },
): Promise<ServerState> {
  const { time, logger, events } = options;
  if (config.store === "") {
    disableOutbox(database);
    // Read per request: a key created or revoked with `rawrxd keys` counts at once.
    return { keys: new ApiKeyStore(database, { time }), store: undefined, close: () => Promise.resolve() };
  }
  const store = await openSharedStore({
    url: config.store,
    database,
    time,
    logger,
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
  });
  // The backup catalogue as rows, so it is shipped like the rest.
  const unfollow = new BackupCatalogTable(database, time).follow(events);
  let closing: Promise<void> | undefined;
  return {
    keys: store.keys,
    store,
    close: () =>
      (closing ??= (async () => {
        unfollow();
        await store.close();
      })()),
  };
}
