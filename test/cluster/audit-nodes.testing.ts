/**
 * Audit "nodes" for the cluster audit tests: each is a real AuditLog in its own RAWRXD_HOME-like
 * temp folder (audit/ and audit-key/) with its own Ed25519 key, whose checkpoints go to a real
 * PostgresWitness, all on one FakeTime (checkpoints come from `checkpoint()`, retries from
 * `time.advance`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeTime } from "../../src/core/index.js";
import {
  AuditLog,
  PostgresWitness,
  checkpointBacklog,
  generateSigningKey,
  publicKeyPem,
  type AuditSigningKey,
} from "../../src/ops/index.js";
import { waitFor } from "../support/wait-for.js";

export interface AuditNode {
  nodeId: string;
  /** The node's RAWRXD_HOME: audit/ and audit-key/ed25519.pem.pub. */
  home: string;
  directory: string;
  key: AuditSigningKey;
  log: AuditLog;
  witness: PostgresWitness;
  /** Appends `count` inference records; resolves once they and any checkpoint they caused are stored. */
  write(count: number): Promise<void>;
  close(): Promise<void>;
}

export const clusterStartMs = Date.UTC(2026, 11, 1, 12, 0, 0);

export async function startAuditNode(
  nodeId: string,
  options: { url: string; time: FakeTime; root: string; key?: AuditSigningKey },
): Promise<AuditNode> {
  const home = join(options.root, nodeId);
  const directory = join(home, "audit");
  mkdirSync(join(home, "audit-key"), { recursive: true });
  const key = options.key ?? generateSigningKey();
  writeFileSync(join(home, "audit-key", "ed25519.pem.pub"), publicKeyPem(key.publicKey));
  const witness = new PostgresWitness({
    url: options.url,
    nodeId,
    publicKey: key.publicKey,
    auditDirectory: directory,
    time: options.time,
    backlog: (afterSeq) => checkpointBacklog(directory, { publicKey: key.publicKey, afterSeq }),
    retry: { initialMs: 1000, maxMs: 4000 },
  });
  const log = await AuditLog.open({
    directory,
    signingKey: key,
    nodeId,
    time: options.time,
    checkpointEveryRecords: 5,
    onCheckpoint: (checkpoint, segment) => witness.submit(checkpoint, segment),
  });
  let written = 0;
  return {
    nodeId,
    home,
    directory,
    key,
    log,
    witness,
    write: async (count) => {
      for (let index = 0; index < count; index += 1) {
        written += 1;
        options.time.advance(1);
        await log.record({
          type: "inference",
          action: "generate",
          object: "stories260K",
          keyId: "rxd_user01",
          address: "127.0.0.1",
          requestId: `${nodeId}-request-${written}`,
          details: { promptTokens: written, outputTokens: 2 * written },
        });
      }
      await log.flush();
    },
    close: async () => {
      await log.close();
      await witness.close();
    },
  };
}

/** Three nodes (node-1..3) in one temp root, writing to the witness at `url`. */
export async function startAuditNodes(
  url: string,
  count = 3,
): Promise<{ nodes: AuditNode[]; time: FakeTime; root: string; dispose(): Promise<void> }> {
  const time = new FakeTime({ wallMs: clusterStartMs });
  const root = mkdtempSync(join(tmpdir(), "rawrxd-cluster-audit-"));
  const nodes: AuditNode[] = [];
  for (let index = 1; index <= count; index += 1)
    nodes.push(await startAuditNode(`node-${index}`, { url, time, root }));
  return {
    nodes,
    time,
    root,
    dispose: async () => {
      for (const node of nodes) await node.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Advances fake time (firing retry timers) until every node's witness has nothing pending. */
export async function drainWitnesses(nodes: readonly AuditNode[], time: FakeTime): Promise<void> {
  await waitFor(
    async () => {
      time.advance(1000);
      for (const node of nodes) await node.witness.settled();
      return nodes.every((node) => node.witness.status().pending === 0);
    },
    "every checkpoint witnessed in PostgreSQL",
    30_000,
  );
}
