/**
 * The audit across a cluster (issue #18, item 4): three nodes, each with its own chain and key,
 * witness their signed checkpoints in a real PostgreSQL; verifyAuditCluster checks every node's
 * chain against them. Tampering with a node's log, forging a row or reusing a node id with
 * another key is caught and named; a PostgreSQL outage delays the witness, never the records.
 */
import { sign } from "node:crypto";
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PostgresWitness,
  canonicalJson,
  generateSigningKey,
  publicKeyPem,
  readPostgresWitness,
  verifyAuditCluster,
  type ClusterVerifyReport,
} from "../../src/ops/index.js";
import { PostgresTestServer } from "../support/postgres-server.js";
import { drainWitnesses, startAuditNode, startAuditNodes, type AuditNode } from "./audit-nodes.testing.js";

let postgres: PostgresTestServer;
let databases = 0;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  postgres = await PostgresTestServer.start();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await postgres.dispose();
});

/** Three nodes on a fresh database, each with `records` records, all checkpoints witnessed. */
async function cluster(records = 12) {
  databases += 1;
  const url = postgres.createDatabase(`audit_${databases}`);
  const started = await startAuditNodes(url);
  cleanups.push(() => started.dispose());
  for (const node of started.nodes) {
    await node.write(records);
    await node.log.checkpoint();
  }
  await drainWitnesses(started.nodes, started.time);
  return { url, ...started };
}

async function verify(url: string, nodeDirectories?: string[]): Promise<ClusterVerifyReport> {
  return verifyAuditCluster({
    witness: await readPostgresWitness(url),
    ...(nodeDirectories === undefined ? {} : { nodeDirectories }),
  });
}

function errorsOf(report: ClusterVerifyReport, nodeId: string) {
  return report.nodes
    .find((node) => node.nodeId === nodeId)!
    .findings.filter((finding) => finding.severity === "error");
}

async function query(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

function segmentOf(node: AuditNode): string {
  const name = readdirSync(node.directory).find((file) => file.startsWith("segment-"))!;
  return join(node.directory, name);
}

function rewrite(path: string, edit: (lines: string[]) => string[]): void {
  chmodSync(path, 0o644);
  const lines = readFileSync(path, "utf8").split("\n").slice(0, -1);
  writeFileSync(
    path,
    edit(lines)
      .map((line) => line + "\n")
      .join(""),
  );
}

describe("audit verify across a cluster (PostgreSQL witness)", () => {
  it("three nodes witness every checkpoint in order and all verify, from the table's folders or --node homes", async () => {
    const { url, nodes } = await cluster();
    const rows = await query(url, "select node_id, seq from rawrxd_audit_checkpoints order by node_id, seq");
    for (const node of nodes) {
      const seqs = rows.rows.filter((row) => row.node_id === node.nodeId).map((row) => Number(row.seq));
      // The first batch is signed at once, then every 5 records, then on demand: 1, 6, 11, 12.
      expect(seqs).toEqual([1, 6, 11, 12]);
      expect(node.witness.status()).toMatchObject({
        state: "idle",
        pending: 0,
        written: 4,
        lastWrittenSeq: 12,
      });
    }
    const report = await verify(url);
    expect(report.intact).toBe(true);
    expect(report.nodes.map((node) => [node.nodeId, node.intact, node.witnessed])).toEqual([
      ["node-1", true, 4],
      ["node-2", true, 4],
      ["node-3", true, 4],
    ]);
    for (const node of report.nodes) expect(node.report?.witnessCheckpointsVerified).toBe(4);
    const byHome = await verify(
      url,
      nodes.map((node) => node.home),
    );
    expect(byHome.intact).toBe(true);
  });

  it("a record removed from node 2's log names node 2, its segment and the sequence", async () => {
    const { url, nodes } = await cluster();
    const node2 = nodes[1]!;
    await node2.close();
    rewrite(segmentOf(node2), (lines) => lines.filter((_, index) => index !== 6));
    const report = await verify(url);
    expect(report.intact).toBe(false);
    expect(errorsOf(report, "node-1")).toEqual([]);
    expect(errorsOf(report, "node-3")).toEqual([]);
    const errors = errorsOf(report, "node-2");
    expect(errors[0]).toMatchObject({
      kind: "deleted-records",
      seq: 7,
      segment: expect.stringMatching(/^segment-/),
    });
  });

  it("node 2's log truncated after its checkpoints were witnessed: the PostgreSQL rows catch it", async () => {
    const { url, nodes } = await cluster();
    const node2 = nodes[1]!;
    await node2.close();
    // Cut the tail and the local checkpoints that covered it, as someone hiding records would.
    rewrite(segmentOf(node2), (lines) => lines.slice(0, 8));
    rewrite(join(node2.directory, "checkpoints.jsonl"), (lines) =>
      lines.filter((line) => (JSON.parse(line) as { seq: number }).seq <= 8),
    );
    const report = await verify(url);
    expect(report.intact).toBe(false);
    const errors = errorsOf(report, "node-2");
    expect(errors.map((finding) => [finding.kind, finding.seq])).toEqual([
      ["truncated-tail", 11],
      ["truncated-tail", 12],
    ]);
    expect(errors[0]!.message).toMatch(/PostgreSQL row seq 11, witnessed in segment-000001-20261201\.jsonl/);
  });

  it("a checkpoint row forged in PostgreSQL is refused, and the table is insert-only", async () => {
    const { url, nodes } = await cluster();
    const mallory = generateSigningKey();
    const honest = (
      await query(url, "select * from rawrxd_audit_checkpoints where node_id = 'node-3' and seq = 12")
    ).rows[0] as Record<string, unknown>;
    // Seq 13 properly signed, but by Mallory's key; seq 14 names node 3's key with a bad signature.
    const body = {
      seq: 13,
      head: "ab".repeat(32),
      time: honest["signed_at"],
      node: "node-3",
      keyId: mallory.keyId,
    };
    const signed = sign(null, Buffer.from(canonicalJson(body)), mallory.privateKey).toString("base64");
    const insert = `insert into rawrxd_audit_checkpoints (node_id, seq, segment, head, signed_at, key_id, signature)
       values ('node-3', $1, $2, $3, $4, $5, $6)`;
    await query(url, insert, [13, honest["segment"], body.head, body.time, mallory.keyId, signed]);
    await query(url, insert, [14, honest["segment"], body.head, body.time, honest["key_id"], signed]);
    await expect(
      query(url, "update rawrxd_audit_checkpoints set head = 'x' where node_id = 'node-1'"),
    ).rejects.toThrow(/insert-only/);
    await expect(query(url, "delete from rawrxd_audit_checkpoints where node_id = 'node-1'")).rejects.toThrow(
      /insert-only/,
    );
    const report = await verify(url);
    expect(report.intact).toBe(false);
    expect(errorsOf(report, "node-3").map((finding) => [finding.kind, finding.seq])).toEqual([
      ["forged-checkpoint", 13],
      ["forged-checkpoint", 14],
    ]);
    expect(errorsOf(report, "node-3")[0]!.message).toContain(`(it names key ${mallory.keyId})`);
    expect(errorsOf(report, "node-1")).toEqual([]);
    expect(nodes).toHaveLength(3);
  });

  it("a second server claiming node-1 with another key is refused loudly", async () => {
    const { url, nodes, time } = await cluster(3);
    const states: string[] = [];
    const impostor = new PostgresWitness({
      url,
      nodeId: "node-1",
      publicKey: generateSigningKey().publicKey,
      time,
      onStateChange: (status) => states.push(status.state),
    });
    impostor.submit(
      {
        seq: 99,
        head: "00".repeat(32),
        time: "2026-12-01T12:00:00.000Z",
        node: "node-1",
        keyId: "x",
        signature: "AAAA",
      },
      "segment-000001-20261201.jsonl",
    );
    await impostor.settled();
    expect(impostor.status()).toMatchObject({ state: "refused", pending: 1 });
    expect(impostor.status().lastError).toMatch(
      /refuses node "node-1": it is registered with key [0-9a-f]{16}/,
    );
    expect(states).toEqual(["writing", "refused"]);
    await impostor.close();
    expect((await verify(url)).intact).toBe(true);
    expect(nodes[0]!.witness.status().state).toBe("idle");
  });

  it("once the tables exist a node needs only INSERT and SELECT", async () => {
    const { url, time, root } = await cluster(2);
    await query(url, "create role audit_writer login");
    await query(url, "grant select, insert on rawrxd_audit_nodes, rawrxd_audit_checkpoints to audit_writer");
    const limited = url.replace("postgres://rawrxd@", "postgres://audit_writer@");
    const node4 = await startAuditNode("node-4", { url: limited, time, root });
    cleanups.push(() => node4.close());
    await node4.write(3);
    await node4.log.checkpoint();
    await drainWitnesses([node4], time);
    expect(node4.witness.status()).toMatchObject({ state: "idle", written: 2, lastError: null });
    const report = await verify(url);
    expect(report.intact).toBe(true);
    expect(report.nodes.map((node) => node.nodeId)).toEqual(["node-1", "node-2", "node-3", "node-4"]);
  });

  it("a node's folder gone, or its key swapped beside it, is named", async () => {
    const { url, nodes } = await cluster(3);
    const [node1, node2, node3] = nodes as [AuditNode, AuditNode, AuditNode];
    await node3.close();
    rmSync(node3.home, { recursive: true, force: true });
    await node2.close();
    writeFileSync(
      join(node2.home, "audit-key", "ed25519.pem.pub"),
      publicKeyPem(generateSigningKey().publicKey),
    );
    const report = await verify(url, [node1.home, node2.home]);
    expect(report.intact).toBe(false);
    expect(errorsOf(report, "node-1")).toEqual([]);
    expect(errorsOf(report, "node-2").map((finding) => finding.kind)).toEqual(["key-mismatch"]);
    expect(errorsOf(report, "node-3")).toEqual([
      expect.objectContaining({
        kind: "missing-node",
        message: expect.stringMatching(
          /node "node-3" has 2 checkpoint\(s\) witnessed in PostgreSQL but no audit folder was given/,
        ),
      }),
    ]);
  });
});
