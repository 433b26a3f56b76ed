/**
 * The state the server keeps: the node's SQLite always; with --store also the shared PostgreSQL
 * (docs/decisions/0038-state-on-postgresql.md), which then holds the authority for API keys
 * and receives what this node records. Without --store, whatever a past --store start left
 * (the outbox triggers and rows) is removed, so a single node pays nothing for it.
 */
import type { Config } from "../config/index.js";
import type { ApiKeyRegistry, Logger, TimePort } from "../core/index.js";
import {
  ApiKeyStore,
  disableOutbox,
  openSharedStore,
  type Database,
  type SharedStore,
} from "../store/index.js";

export interface ServerState {
  keys: ApiKeyRegistry;
  /** Undefined without --store. */
  store: SharedStore | undefined;
}

export async function openServerState(
  config: Readonly<Config>,
  database: Database,
  options: { time: TimePort; logger: Logger },
): Promise<ServerState> {
  if (config.store === "") {
    disableOutbox(database);
    // Read per request: a key created or revoked with `rawrxd keys` counts at once.
    return { keys: new ApiKeyStore(database, { time: options.time }), store: undefined };
  }
  const store = await openSharedStore({ url: config.store, database, ...options });
  return { keys: store.keys, store };
}
