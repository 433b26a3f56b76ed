/**
 * PostgreSQL stopped while three nodes write audit records (issue #18): every record still
 * reaches its node's disk at once, the checkpoints queue (pending, retrying with backoff), and
 * after PostgresTestServer.restart() they are written in order and the cluster verifies.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPostgresWitness, verifyAuditCluster } from "../../src/ops/index.js";
import { PostgresTestServer } from "../support/postgres-server.js";
import { drainWitnesses, startAuditNode, startAuditNodes } from "./audit-nodes.testing.js";

let postgres: PostgresTestServer;

beforeAll(async () => {
  postgres = await PostgresTestServer.start();
});
afterAll(async () => {
  await postgres.dispose();
});

describe("audit witness during a PostgreSQL outage", () => {
  it("records go on while PostgreSQL is down; queued checkpoints are written in order after its restart", async () => {
    const url = postgres.createDatabase("outage");
    const started = await startAuditNodes(url);
    const { nodes, time } = started;
    try {
      for (const node of nodes) {
        await node.write(6);
        await node.log.checkpoint();
      }
      await drainWitnesses(nodes, time);

      await postgres.stop();
      for (const node of nodes) {
        // Each record resolves once on the node's disk: PostgreSQL is not on that path.
        await node.write(12);
        await node.log.checkpoint();
      }
      for (const node of nodes) await node.witness.settled();
      for (const node of nodes) {
        expect(node.log.health.state).toBe("writable");
        expect(node.witness.status()).toMatchObject({ state: "retrying", pending: 3, lastWrittenSeq: 6 });
        expect(node.witness.status().lastError).not.toContain("postgres://");
      }
      // Retries keep failing (backoff on the fake clock) while PostgreSQL stays down.
      time.advance(1000);
      for (const node of nodes) await node.witness.settled();
      expect(nodes[0]!.witness.status()).toMatchObject({ state: "retrying", pending: 3 });
      expect(nodes[0]!.witness.status().failures).toBeGreaterThanOrEqual(2);

      await postgres.restart();
      await drainWitnesses(nodes, time);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const rows = await client.query<{ node_id: string; seq: string }>(
        "select node_id, seq from rawrxd_audit_checkpoints order by node_id, witnessed_at, seq",
      );
      await client.end();
      for (const node of nodes) {
        expect(node.witness.status()).toMatchObject({
          state: "idle",
          pending: 0,
          lastError: null,
          failures: 0,
        });
        const seqs = rows.rows.filter((row) => row.node_id === node.nodeId).map((row) => Number(row.seq));
        // 1 and 6 before the outage; 11, 16 (every 5 records) and 18 (on demand) queued, then written in order.
        expect(seqs).toEqual([1, 6, 11, 16, 18]);
      }
      const report = await verifyAuditCluster({ witness: await readPostgresWitness(url) });
      expect(report.intact).toBe(true);
      expect(report.nodes.map((node) => node.report?.witnessCheckpointsVerified)).toEqual([5, 5, 5]);
    } finally {
      await started.dispose();
    }
  });

  it("checkpoints still queued when a node stops are written from its folder after it starts again", async () => {
    const url = postgres.createDatabase("restart");
    const started = await startAuditNodes(url, 1);
    const { time, root } = started;
    const node = started.nodes[0]!;
    try {
      await node.write(3);
      await drainWitnesses([node], time);
      await postgres.stop();
      await node.write(9);
      await node.close();
      // The stop's last try failed too: 6, 11 and 12 are only in the node's checkpoints.jsonl.
      expect(node.witness.status()).toMatchObject({ state: "closed", pending: 3, lastWrittenSeq: 1 });
      await postgres.restart();
      const again = await startAuditNode(node.nodeId, { url, time, root, key: node.key });
      started.nodes.push(again);
      await again.write(1);
      await drainWitnesses([again], time);
      expect(again.witness.status()).toMatchObject({ written: 4, lastWrittenSeq: 13 });
      const report = await verifyAuditCluster({ witness: await readPostgresWitness(url) });
      expect(report.intact).toBe(true);
      expect(report.nodes[0]).toMatchObject({ nodeId: "node-1", witnessed: 5 });
      expect(report.nodes[0]!.findings).toEqual([]);
    } finally {
      await started.dispose();
    }
  });
});
