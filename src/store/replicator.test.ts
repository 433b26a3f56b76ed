import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger, FakeTime } from "../core/index.js";
import { Database, enableOutbox, openPostgresPool, OutboxReplicator } from "./index.js";

let database: Database;
const lines: string[] = [];
const logger = createLogger("info", (line) => lines.push(line));
// Nothing listens on port 1: every query fails at once, as with PostgreSQL down.
const pool = openPostgresPool("postgres://rawrxd@127.0.0.1:1/rawrxd", logger);

beforeEach(() => {
  database = Database.open({ path: ":memory:" });
  enableOutbox(database);
  lines.length = 0;
});
afterEach(() => database.close());
afterAll(() => pool.end());

const insertIncidents = (count: number): void => {
  for (let index = 0; index < count; index++)
    database.connection
      .prepare("INSERT INTO sla_incidents (start_ms, worst_state, cause) VALUES (?, 'down', '[]')")
      .run(index);
};

describe("OutboxReplicator with PostgreSQL unreachable", () => {
  it("never rejects, warns once per outage, keeps rows and caps the outbox per table", async () => {
    const replicator = new OutboxReplicator({
      database,
      pool,
      nodeId: "node-a",
      time: new FakeTime(),
      logger,
      maxPendingRows: 3,
    });
    insertIncidents(2);
    await replicator.flush();
    await replicator.flush();
    expect(replicator.pending()).toBe(2);
    expect(lines.filter((line) => line.includes("Could not ship state"))).toHaveLength(1);
    insertIncidents(5);
    await replicator.flush();
    // The newest 3 kept; the drop is logged.
    const kept = database.connection
      .prepare("SELECT row FROM store_outbox ORDER BY seq")
      .pluck()
      .all() as string[];
    expect(kept.map((row) => (JSON.parse(row) as { start_ms: number }).start_ms)).toEqual([2, 3, 4]);
    expect(lines.some((line) => line.includes("dropped the oldest unshipped rows"))).toBe(true);
    // Closing while failing does not wait on PostgreSQL again; the rows stay for the next start.
    await replicator.close();
    expect(replicator.pending()).toBe(3);
  });
});
