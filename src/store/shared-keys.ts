/**
 * API keys with `--store postgres://…`: PostgreSQL is the authority, the node's SQLite table a
 * synchronous read replica, so checking a key per request stays one local lookup. The replica
 * loads every key at start, follows each change through LISTEN on the channel the api_keys
 * trigger notifies (a revoke reaches every node in milliseconds), and resyncs in full every
 * `resyncMs` and after each reconnect, to heal a missed notification. Creating and revoking
 * write PostgreSQL first, then the local copy. Keys are never deleted and a revocation is never
 * undone, so a resync merges: keys only the replica has (made before the node joined) are
 * uploaded, a revocation on either side wins.
 */
import type pg from "pg";
import { pgModule } from "./pg-module.js";
import {
  AppError,
  type ApiKeyRegistry,
  type ApiKeyView,
  type CreatedApiKey,
  type KeyCheck,
  type Logger,
  type NewApiKey,
  type TimePort,
  type Timer,
} from "../core/index.js";
import { newKeyRow, viewOf, type ApiKeyStore, type KeyRow } from "./api-keys.js";
import { postgresTypes } from "./postgres-pool.js";

export const keysChannel = "rawrxd_api_keys";
const reconnectDelayMs = 1000;

export interface SharedApiKeysOptions {
  /** The node's SQLite keys: the replica every request reads. */
  local: ApiKeyStore;
  pool: pg.Pool;
  /** For the LISTEN connection (a pool connection cannot hold LISTEN). */
  url: string;
  time: TimePort;
  logger: Logger;
  /** Full resync period. Default 30 s. */
  resyncMs?: number;
  /** Run before each full resync (the schema check). */
  beforeResync?: () => Promise<void>;
}

export class SharedApiKeys implements ApiKeyRegistry {
  readonly #options: SharedApiKeysOptions;
  readonly #resyncMs: number;
  #listener: pg.Client | undefined;
  #resyncTimer: Timer | undefined;
  #reconnectTimer: Timer | undefined;
  #isClosed = false;
  #isOnline = false;
  #listens = 0;
  #hasWarned = false;

  constructor(options: SharedApiKeysOptions) {
    this.#options = options;
    this.#resyncMs = options.resyncMs ?? 30_000;
  }

  /**
   * Listens, then loads every key. PostgreSQL unreachable: the node goes on with its last copy
   * (logged) and keeps trying.
   */
  async start(): Promise<void> {
    this.#resyncTimer = this.#options.time.setInterval(
      () => void this.resync().catch(() => {}),
      this.#resyncMs,
    );
    this.#resyncTimer.unref();
    await this.#listen();
  }

  /** Whether the LISTEN connection is up (changes arrive as they happen). */
  get isListening(): boolean {
    return this.#isOnline;
  }

  /** LISTEN connections made so far (1 after a clean start; each reconnect adds one). */
  get listens(): number {
    return this.#listens;
  }

  async #listen(): Promise<void> {
    if (this.#isClosed) return;
    const client = new (pgModule().Client)({
      connectionString: this.#options.url,
      types: postgresTypes,
      connectionTimeoutMillis: 5000,
    });
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client, undefined));
    client.on("notification", (message) => {
      if (message.channel === keysChannel && message.payload !== undefined)
        void this.#fetchOne(message.payload).catch((error: unknown) =>
          this.#options.logger.warn("Could not read a changed API key from the PostgreSQL store", {
            keyId: message.payload,
            error: String(error),
          }),
        );
    });
    this.#listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${keysChannel}`);
      this.#isOnline = true;
      this.#hasWarned = false;
      this.#listens += 1;
      await this.resync();
    } catch (error) {
      this.#lost(client, error);
    }
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#listener !== client) return;
    this.#listener = undefined;
    // Once per outage: when an established connection drops, or the first attempt fails.
    if (this.#isOnline || !this.#hasWarned)
      this.#options.logger.warn(
        "Lost the PostgreSQL store's key notifications; serving the local copy of the keys and reconnecting",
        { error: error instanceof Error ? error.message : String(error) },
      );
    this.#isOnline = false;
    this.#hasWarned = true;
    void client.end().catch(() => {});
    if (this.#isClosed) return;
    this.#reconnectTimer?.cancel();
    this.#reconnectTimer = this.#options.time.setTimeout(() => void this.#listen(), reconnectDelayMs);
    this.#reconnectTimer.unref();
  }

  async #fetchOne(id: string): Promise<void> {
    const result = await this.#options.pool.query<KeyRow>("SELECT * FROM api_keys WHERE id = $1", [id]);
    if (!this.#isClosed) this.#options.local.upsertRows(result.rows);
  }

  /** Merges PostgreSQL and the local copy (see the file comment); the local copy ends equal. */
  async resync(): Promise<void> {
    const { pool, local } = this.#options;
    await this.#options.beforeResync?.();
    const shared = new Map(
      (await pool.query<KeyRow>("SELECT * FROM api_keys")).rows.map((row) => [row.id, row]),
    );
    const upload = local.rows().filter((row) => {
      const theirs = shared.get(row.id);
      return theirs === undefined || (theirs.revoked_at === null && row.revoked_at !== null);
    });
    for (const row of upload) {
      const result = await pool.query<KeyRow>(
        `INSERT INTO api_keys (id, name, role, max_priority, key_sha256, created_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET revoked_at = COALESCE(api_keys.revoked_at, EXCLUDED.revoked_at)
         RETURNING *`,
        [row.id, row.name, row.role, row.max_priority, row.key_sha256, row.created_at, row.revoked_at],
      );
      for (const stored of result.rows) shared.set(stored.id, stored);
    }
    if (!this.#isClosed) local.upsertRows([...shared.values()]);
  }

  async create(input: NewApiKey): Promise<CreatedApiKey> {
    const { key, row } = newKeyRow(input, this.#options.time.wallNow());
    await this.#write(() =>
      this.#options.pool.query(
        "INSERT INTO api_keys (id, name, role, max_priority, key_sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        [row.id, row.name, row.role, row.max_priority, row.key_sha256, row.created_at],
      ),
    );
    this.#options.local.upsertRows([row]);
    return { key, view: viewOf(row) };
  }

  async revoke(id: string): Promise<ApiKeyView | undefined> {
    const revoke = () =>
      this.#write(() =>
        this.#options.pool.query<KeyRow>(
          "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *",
          [this.#options.time.wallNow(), id],
        ),
      );
    let result = await revoke();
    // A key only this node has (made before it joined, not yet uploaded): upload, then revoke.
    if (result.rows.length === 0 && this.#options.local.get(id) !== undefined) {
      await this.#write(() => this.resync());
      result = await revoke();
    }
    this.#options.local.upsertRows(result.rows);
    const row = result.rows[0];
    return row === undefined ? undefined : viewOf(row);
  }

  /** A write needs PostgreSQL: unreachable, it fails with a 503 rather than forking the keys. */
  async #write<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      this.#options.logger.warn("The PostgreSQL store refused a key change", { error: String(error) });
      throw new AppError(
        "store-unavailable",
        "The shared PostgreSQL store did not take the key change; keys cannot change while it is unreachable. Try again when it is back.",
        { cause: error, retryAfterSeconds: 5 },
      );
    }
  }

  list(): ApiKeyView[] {
    return this.#options.local.list();
  }

  get(id: string): ApiKeyView | undefined {
    return this.#options.local.get(id);
  }

  hasActiveKeys(): boolean {
    return this.#options.local.hasActiveKeys();
  }

  verify(presented: string): KeyCheck {
    return this.#options.local.verify(presented);
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    this.#resyncTimer?.cancel();
    this.#reconnectTimer?.cancel();
    const listener = this.#listener;
    this.#listener = undefined;
    this.#isOnline = false;
    await listener?.end().catch(() => {});
  }
}
