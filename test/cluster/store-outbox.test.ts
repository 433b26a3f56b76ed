/**
 * What each node records, shipped to PostgreSQL with --store (issue #18 item 4, docs/decisions/
 * 0038): real servers' request logs, rollups and SLA intervals arrive under their node ids; an
 * SLA incident ends in PostgreSQL as the node last wrote it; with PostgreSQL stopped a node
 * goes on serving and recording, and after PostgreSQL and the node restart every row arrives,
 * none twice.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SlaStore } from "../../src/ops/index.js";
import { Database } from "../../src/store/index.js";
import { postJson } from "../e2e/helpers.js";
import { waitFor } from "../support/wait-for.js";
import { startStoreServer, StoreFixture } from "./store.testing.js";

const fixture = new StoreFixture();
beforeAll(() => fixture.start());
afterEach(() => fixture.cleanup());
afterAll(() => fixture.dispose());

const chat = { model: "alpha", messages: [{ role: "user", content: "hi" }] };

async function server(url: string, home?: { home: string; modelsDir: string }) {
  const started = await startStoreServer(url, home);
  fixture.cleanups.push(() => started.server.close());
  return started;
}

async function ask(baseUrl: string, times: number): Promise<void> {
  for (let index = 0; index < times; index++) {
    const response = await postJson(`${baseUrl}/v1/chat/completions`, chat);
    expect(response.status).toBe(200);
    await response.text();
  }
}

/** Rows per node id in a shared table. */
async function countsByNode(url: string, table: string): Promise<Record<string, number>> {
  const client = await fixture.client(url);
  const result = await client.query<{ node_id: string; rows: string }>(
    `SELECT node_id, COUNT(*) AS rows FROM ${table} GROUP BY node_id`,
  );
  await client.end();
  return Object.fromEntries(result.rows.map((row) => [row.node_id, Number(row.rows)]));
}

describe("the outbox ships each node's records to PostgreSQL", () => {
  it("two servers' request logs, rollups and SLA intervals arrive under their node ids", async () => {
    const url = fixture.database("outbox_two");
    const a = await server(url);
    const b = await server(url);
    fixture.cleanups.push(() => rmSync(a.home, { recursive: true, force: true }));
    fixture.cleanups.push(() => rmSync(b.home, { recursive: true, force: true }));
    const idA = a.server.store!.nodeId;
    const idB = b.server.store!.nodeId;
    expect(idA).not.toBe(idB);
    await ask(a.server.url, 3);
    await ask(b.server.url, 2);
    await waitFor(
      async () => {
        const counts = await countsByNode(url, "request_log");
        return counts[idA] === 3 && counts[idB] === 2;
      },
      "3 + 2 request log rows in PostgreSQL",
      10_000,
    );
    // The current minute's rollups are written when it ends or the server stops; a stopping
    // server ships its last rows before its database closes.
    await a.server.close();
    await b.server.close();
    const rollups = await countsByNode(url, "metric_rollups");
    const intervals = await countsByNode(url, "sla_intervals");
    for (const counts of [rollups, intervals]) {
      expect(counts[idA]).toBeGreaterThan(0);
      expect(counts[idB]).toBeGreaterThan(0);
    }
  });

  it("a backup made on a server lands in PostgreSQL's backup catalogue under the node id", async () => {
    const url = fixture.database("outbox_backup");
    const node = await server(url);
    fixture.cleanups.push(() => rmSync(node.home, { recursive: true, force: true }));
    await ask(node.server.url, 1);
    const made = await postJson(`${node.server.url}/v1/backups`, { kind: "full" });
    expect(made.status).toBe(201);
    const { backup } = (await made.json()) as { backup: { id: string } };
    const client = await fixture.client(url);
    const rows = await waitFor(
      async () => {
        const result = await client.query("SELECT node_id, id, kind, ok, scheduled FROM backup_catalog");
        return result.rows.length > 0 ? result.rows : undefined;
      },
      "the backup in PostgreSQL",
      10_000,
    );
    expect(rows).toEqual([
      { node_id: node.server.store!.nodeId, id: backup.id, kind: "full", ok: 1, scheduled: 0 },
    ]);
  });

  it("an SLA incident opened, updated and closed on a node ends in PostgreSQL as the node has it", async () => {
    const url = fixture.database("outbox_incident");
    const node = await fixture.node(url);
    const sla = new SlaStore(node.database);
    const id = sla.openIncident({ startMs: 1_000, worstState: "degraded", cause: ["model alpha slow"] });
    sla.updateIncident(id, {
      worstState: "down",
      cause: ["runner crashed"],
      requestsFailed: 4,
      requestsRejected: 1,
    });
    await node.store.replicator.flush();
    sla.updateIncident(id, {
      worstState: "down",
      cause: ["runner crashed"],
      requestsFailed: 7,
      requestsRejected: 2,
      endMs: 9_000,
    });
    await node.store.replicator.flush();
    const client = await fixture.client(url);
    // A plain client: BIGINT reads as text, DOUBLE PRECISION (times) as a number.
    const rows = await client.query("SELECT * FROM sla_incidents");
    expect(rows.rows).toEqual([
      {
        node_id: node.store.nodeId,
        id: String(id),
        start_ms: 1000,
        end_ms: 9000,
        worst_state: "down",
        cause: JSON.stringify(["runner crashed"]),
        requests_failed: "7",
        requests_rejected: "2",
      },
    ]);
    expect(node.store.replicator.pending()).toBe(0);
  });

  it("a batch shipped again (a crash between PostgreSQL's commit and the high-water mark) leaves each row once", async () => {
    const url = fixture.database("outbox_again");
    const node = await fixture.node(url);
    const sla = new SlaStore(node.database);
    for (let index = 0; index < 3; index++)
      sla.openIncident({ startMs: index, worstState: "down", cause: [] });
    await node.store.replicator.flush();
    // As if the mark had not moved: the same outbox rows once more.
    node.database.connection.exec(`
      DELETE FROM store_shipped;
      INSERT INTO store_outbox (table_name, row)
        SELECT 'sla_incidents', json_object('id', id, 'start_ms', start_ms, 'end_ms', end_ms, 'worst_state', worst_state,
          'cause', cause, 'requests_failed', requests_failed, 'requests_rejected', requests_rejected)
        FROM sla_incidents;
    `);
    await node.store.replicator.flush();
    expect(node.store.replicator.pending()).toBe(0);
    expect(await countsByNode(url, "sla_incidents")).toEqual({ [node.store.nodeId]: 3 });
  });

  it("PostgreSQL stopped: the server serves and records; after PostgreSQL and the node restart every row arrives once", async () => {
    const url = fixture.database("outbox_outage");
    const first = await server(url);
    const folders = { home: first.home, modelsDir: first.modelsDir };
    fixture.cleanups.push(() => rmSync(folders.home, { recursive: true, force: true }));
    const nodeId = first.server.store!.nodeId;
    await ask(first.server.url, 2);
    await waitFor(
      async () => (await countsByNode(url, "request_log"))[nodeId] === 2,
      "2 rows shipped",
      10_000,
    );

    await fixture.postgres.stop();
    await ask(first.server.url, 3);
    const localRows = (): number => {
      const database = Database.open({ path: join(folders.home, "rawrxd.db") });
      try {
        return database.connection.prepare("SELECT COUNT(*) FROM request_log").pluck().get() as number;
      } finally {
        database.close();
      }
    };
    await waitFor(() => localRows() === 5, "5 requests recorded locally", 10_000);
    await first.server.close();

    await fixture.postgres.restart();
    const again = await server(url, folders);
    expect(again.server.store!.nodeId).toBe(nodeId);
    await waitFor(
      async () => (await countsByNode(url, "request_log"))[nodeId] === 5,
      "all 5 rows shipped",
      10_000,
    );
    const client = await fixture.client(url);
    const distinct = await client.query<{ n: string }>(
      "SELECT COUNT(DISTINCT request_id) AS n FROM request_log",
    );
    expect(Number(distinct.rows[0]!.n)).toBe(5);
    await ask(again.server.url, 1);
    await waitFor(async () => (await countsByNode(url, "request_log"))[nodeId] === 6, "the 6th row", 10_000);
  });
});
