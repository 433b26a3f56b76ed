/**
 * Connections to the shared PostgreSQL of `--store`: a small pool whose idle-connection errors
 * (PostgreSQL stopped or restarted) are logged instead of crashing the node, and BIGINT columns
 * (times in Unix ms, counts) read as numbers.
 */
import type pg from "pg";
import type { Logger } from "../core/index.js";
import { pgModule } from "./pg-module.js";

const bigintOid = 20;

/** BIGINT as number (every BIGINT here is a ms time, id or count far below 2^53). */
export const postgresTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary"): unknown =>
    oid === bigintOid && format !== "binary"
      ? (value: string) => Number(value)
      : (pgModule().types.getTypeParser(oid, format ?? "text") as unknown)) as typeof pg.types.getTypeParser,
};

/** Hides the password of a postgres:// URL for logs and errors. */
export function redactStoreUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable store URL)";
  }
}

export function openPostgresPool(url: string, logger: Logger | undefined, max = 4): pg.Pool {
  const pool = new (pgModule().Pool)({
    connectionString: url,
    max,
    types: postgresTypes,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  pool.on("error", (error) =>
    logger?.warn("A PostgreSQL store connection failed; the next use reconnects", { error: error.message }),
  );
  return pool;
}
