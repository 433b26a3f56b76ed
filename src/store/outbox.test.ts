import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Database, disableOutbox, enableOutbox, storeNodeId } from "./index.js";

let database: Database;
beforeEach(() => {
  database = Database.open({ path: ":memory:" });
});
afterEach(() => database.close());

const insertIncident = (startMs: number): number =>
  Number(
    database.connection
      .prepare("INSERT INTO sla_incidents (start_ms, worst_state, cause) VALUES (?, 'down', '[]')")
      .run(startMs).lastInsertRowid,
  );
const outbox = () =>
  (
    database.connection.prepare("SELECT table_name, row FROM store_outbox ORDER BY seq").all() as {
      table_name: string;
      row: string;
    }[]
  ).map((item) => ({ table: item.table_name, row: JSON.parse(item.row) as Record<string, unknown> }));
const triggers = () =>
  database.connection.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'").pluck().get();

describe("the outbox", () => {
  it("queues rows recorded before it was enabled, then every insert and update as JSON", () => {
    const early = insertIncident(1000);
    enableOutbox(database);
    enableOutbox(database); // idempotent: no second backfill
    const later = insertIncident(2000);
    database.connection.prepare("UPDATE sla_incidents SET end_ms = 3000.5 WHERE id = ?").run(later);
    expect(outbox().map(({ table, row }) => [table, row["id"], row["end_ms"]])).toEqual([
      ["sla_incidents", early, null],
      ["sla_incidents", later, null],
      ["sla_incidents", later, 3000.5],
    ]);
  });

  it("disabled (a start without --store): no triggers, nothing queued, the outbox emptied", () => {
    enableOutbox(database);
    insertIncident(1000);
    disableOutbox(database);
    insertIncident(2000);
    expect(triggers()).toBe(0);
    expect(outbox()).toEqual([]);
  });

  it("keeps one node id per database unless one is given", () => {
    const made = storeNodeId(database);
    expect(made).toMatch(/-[0-9a-f]{6}$/);
    expect(storeNodeId(database)).toBe(made);
    expect(storeNodeId(database, "node-a")).toBe("node-a");
    expect(storeNodeId(database)).toBe("node-a");
  });
});
