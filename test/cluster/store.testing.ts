/**
 * Shared set-up of the store tests (issue #18 item 4): one real PostgreSQL per test file, a fresh
 * database on it per test, and "nodes": a home folder with its SQLite database and, with a store
 * URL, its shared store (keys replica and outbox replicator), closed and removed by dispose.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import { silentLogger, systemTime } from "../../src/core/index.js";
import { Database, openSharedStore, type SharedStore } from "../../src/store/index.js";
import { baseFlags, makeHome } from "../e2e/helpers.js";
import { PostgresTestServer } from "../support/postgres-server.js";

export interface StoreNode {
  home: string;
  database: Database;
  store: SharedStore;
  /** Closes the store and the database (the home stays until dispose). */
  close(): Promise<void>;
  dispose(): Promise<void>;
}

/** A node on `url`: home folder (reused when given), SQLite, shared store. */
export async function openStoreNode(
  url: string,
  options: { home?: string; keysResyncMs?: number; shipIntervalMs?: number } = {},
): Promise<StoreNode> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "rawrxd-store-node-"));
  const database = Database.open({ path: join(home, "rawrxd.db") });
  const store = await openSharedStore({
    url,
    database,
    time: systemTime,
    logger: silentLogger,
    keysResyncMs: options.keysResyncMs ?? 30_000,
    shipIntervalMs: options.shipIntervalMs ?? 100,
  });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await store.close();
      database.close();
    })());
  return {
    home,
    database,
    store,
    close,
    async dispose() {
      await close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** One PostgreSQL for a test file; `database()` makes a fresh database on it per test. */
export class StoreFixture {
  readonly cleanups: (() => Promise<void> | void)[] = [];
  #postgres: PostgresTestServer | undefined;
  #count = 0;

  get postgres(): PostgresTestServer {
    if (this.#postgres === undefined) throw new Error("StoreFixture.start() first");
    return this.#postgres;
  }

  async start(): Promise<void> {
    this.#postgres = await PostgresTestServer.start();
  }

  /** A fresh database; its URL. */
  database(prefix: string): string {
    this.#count += 1;
    return this.postgres.createDatabase(`${prefix}_${this.#count}`);
  }

  /** A client on `url`, ended by `cleanup`. */
  async client(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => undefined);
    await client.connect();
    this.cleanups.push(() => client.end().catch(() => undefined));
    return client;
  }

  async node(url: string, options: Parameters<typeof openStoreNode>[1] = {}): Promise<StoreNode> {
    const node = await openStoreNode(url, options);
    this.cleanups.push(() => node.dispose());
    return node;
  }

  /** Test cleanups (newest first). */
  async cleanup(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
  }

  async dispose(): Promise<void> {
    await this.cleanup();
    await this.#postgres?.dispose();
  }
}

/** A RawrXD server (FakeEngine, model "alpha") on `home` with --store `url`; reuse a home to restart a node. */
export async function startStoreServer(
  url: string,
  home?: { home: string; modelsDir: string },
): Promise<{ server: RunningServer; home: string; modelsDir: string }> {
  const folders = home ?? makeHome(["alpha"]);
  const config = loadConfig({
    flags: {
      ...baseFlags(folders.home, folders.modelsDir),
      store: url,
      "metrics-interval": "100ms",
      "health-interval": "200ms",
    },
    env: {},
    readConfigFile: false,
  });
  const server = await startServer(config, {
    engine: new FakeEngine({ alpha: {} }),
    logger: silentLogger,
    handleSignals: false,
  });
  return { server, ...folders };
}
