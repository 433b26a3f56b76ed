/**
 * The shared PostgreSQL of `--store` brought up to date by the same numbered migrations as each
 * node's SQLite (their `postgres` SQL), recorded in its own `schema_migrations`. Nodes starting
 * together take an advisory lock first, so each migration runs once.
 */
import type pg from "pg";
import { AppError, systemTime } from "../core/index.js";
import { migrations as defaultMigrations, type Migration } from "./migrations.js";

/** Any number: the key of the advisory lock the migrating node holds. */
const migrationLockKey = 0x72617772;

/** Applies the migrations PostgreSQL lacks; returns the versions it ran. */
export async function applyPostgresMigrations(
  pool: pg.Pool,
  migrations: readonly Migration[] = defaultMigrations,
): Promise<number[]> {
  const client = await pool.connect();
  try {
    // Locked first: two CREATE TABLE IF NOT EXISTS at once can still collide in PostgreSQL.
    await client.query("SELECT pg_advisory_lock($1)", [migrationLockKey]);
    try {
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
      );
      const applied = new Set(
        (await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map(
          (row) => row.version,
        ),
      );
      const newest = migrations.at(-1)?.version ?? 0;
      const unknown = [...applied].filter((version) => version > newest);
      if (unknown.length > 0)
        throw new AppError(
          "internal",
          `The shared PostgreSQL store has schema version ${Math.max(...unknown)}, newer than this RawrXD knows (${newest}). Upgrade this node to the version the other nodes run.`,
        );
      const ran: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await client.query("BEGIN");
        try {
          if (migration.postgres !== undefined) await client.query(migration.postgres);
          await client.query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            [migration.version, migration.name, new Date(systemTime.wallNow()).toISOString()],
          );
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw new AppError(
            "internal",
            `Migration ${migration.version} "${migration.name}" failed on the shared PostgreSQL store: ${error instanceof Error ? error.message : String(error)}.`,
            { cause: error },
          );
        }
        ran.push(migration.version);
      }
      return ran;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [migrationLockKey]);
    }
  } finally {
    client.release();
  }
}

/** Applied versions on PostgreSQL, ascending. */
export async function postgresVersions(pool: pg.Pool): Promise<number[]> {
  const result = await pool.query<{ version: number }>(
    "SELECT version FROM schema_migrations ORDER BY version",
  );
  return result.rows.map((row) => row.version);
}
