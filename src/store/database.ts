/**
 * The server's SQLite database (RAWRXD_HOME/rawrxd.db): opened in WAL mode, brought up to date
 * by numbered migrations recorded in `schema_migrations`, closed once. better-sqlite3 is
 * synchronous, so callers batch their writes into transactions off the request path.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { AppError, systemTime } from "../core/index.js";
import { migrations as defaultMigrations, type Migration } from "./migrations.js";

export type SqliteConnection = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /** File path, or ":memory:" for tests. */
  path: string;
  /** Default: every migration of the server (migrations.ts). */
  migrations?: readonly Migration[];
}

export class Database {
  readonly path: string;
  readonly #connection: SqliteConnection;
  #isClosed = false;

  private constructor(path: string, connection: SqliteConnection) {
    this.path = path;
    this.#connection = connection;
  }

  static open(options: OpenDatabaseOptions): Database {
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    let connection: SqliteConnection;
    try {
      connection = new BetterSqlite3(options.path);
    } catch (error) {
      throw new AppError(
        "internal",
        `Cannot open the state database ${options.path}: ${error instanceof Error ? error.message : String(error)}.`,
        { cause: error },
      );
    }
    try {
      connection.pragma("journal_mode = WAL");
      // WAL + NORMAL: a power loss can lose the last transactions, never corrupt the file.
      connection.pragma("synchronous = NORMAL");
      connection.pragma("busy_timeout = 5000");
      connection.pragma("foreign_keys = ON");
      applyMigrations(connection, options.migrations ?? defaultMigrations);
    } catch (error) {
      connection.close();
      throw error;
    }
    return new Database(options.path, connection);
  }

  /** The open connection; throws once closed. */
  get connection(): SqliteConnection {
    if (this.#isClosed) throw new AppError("internal", `The state database ${this.path} is closed.`);
    return this.#connection;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Applied migration versions, ascending. */
  appliedVersions(): number[] {
    return (
      this.connection.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as {
        version: number;
      }[]
    ).map((row) => row.version);
  }

  /** Idempotent. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#connection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Applies the migrations newer than the database, each in its own transaction, in version
 * order. A database from a newer RawrXD (unknown versions) is refused rather than guessed at.
 */
export function applyMigrations(connection: SqliteConnection, migrations: readonly Migration[]): number[] {
  checkMigrationList(migrations);
  connection.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
  );
  const applied = new Set(
    (connection.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map(
      (row) => row.version,
    ),
  );
  const newest = migrations.at(-1)?.version ?? 0;
  const unknown = [...applied].filter((version) => version > newest);
  if (unknown.length > 0) {
    throw new AppError(
      "internal",
      `The state database has schema version ${Math.max(...unknown)}, newer than this RawrXD knows (${newest}). Upgrade RawrXD or restore an older backup.`,
    );
  }
  const record = connection.prepare(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
  );
  const ran: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    connection.transaction(() => {
      migration.up(connection);
      record.run(migration.version, migration.name, new Date(systemTime.wallNow()).toISOString());
    })();
    ran.push(migration.version);
  }
  return ran;
}

function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new AppError(
        "internal",
        `Migration "${migration.name}" has version ${migration.version}; versions must run 1, 2, 3… without gaps.`,
      );
    }
  });
}
