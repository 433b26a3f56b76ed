/**
 * Connections to the PostgreSQL audit witness (pg.Client), reading the witness tables for
 * `verify --cluster`, and the URL as it may be shown (without its password).
 */
import { pgModule } from "../../store/index.js";
import { readWitness, type Queryable } from "./witness-table.js";

/** A connection the witness opens, uses and ends; tests and the default use pg.Client. */
export interface WitnessConnection extends Queryable {
  end(): Promise<void>;
}

export async function connectPg(url: string): Promise<WitnessConnection> {
  // Bounded waits: a PostgreSQL that stops answering (a partition, not a refusal) fails the
  // attempt, and the witness retries, instead of holding its queue forever.
  const client = new (pgModule().Client)({
    connectionString: url,
    connectionTimeoutMillis: 5000,
    query_timeout: 10_000,
    keepAlive: true,
  });
  // A dropped connection surfaces on the next query; without a listener it would crash the process.
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Reads every node and witnessed checkpoint from the witness tables at `url` (for verify --cluster). */
export async function readPostgresWitness(
  url: string,
  connect: (url: string) => Promise<WitnessConnection> = connectPg,
): Promise<Awaited<ReturnType<typeof readWitness>>> {
  const connection = await connect(url);
  try {
    return await readWitness(connection);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** The URL without its password, for messages and the settings record. */
export function witnessUrlForDisplay(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an invalid URL)";
  }
}
