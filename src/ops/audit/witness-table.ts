/**
 * The PostgreSQL witness tables (issue #18): one row per node naming the public key it signs
 * with (registered on first use, never replaced), and one insert-only row per signed checkpoint
 * of any node. The migration is idempotent and serialised with an advisory lock, so nodes
 * starting together create the tables once; a trigger refuses UPDATE and DELETE.
 */
import type { KeyObject } from "node:crypto";
import { createPublicKey } from "node:crypto";
import type { Checkpoint } from "./checkpoints.js";
import { publicKeyId, publicKeyPem } from "./signing-key.js";

/** What the witness needs of a PostgreSQL connection (pg.Client and pg.Pool both fit). */
export interface Queryable {
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Row[]; rowCount: number | null }>;
}

export const witnessNodesTable = "rawrxd_audit_nodes";
export const witnessCheckpointsTable = "rawrxd_audit_checkpoints";
/** Any fixed number: serialises concurrent migrations from several nodes. */
const migrationLock = 0x52415752;

const migration = `
create table if not exists ${witnessNodesTable} (
  node_id text primary key,
  key_id text not null,
  public_key text not null,
  audit_directory text,
  registered_at timestamptz not null default now()
);
create table if not exists ${witnessCheckpointsTable} (
  node_id text not null references ${witnessNodesTable} (node_id),
  seq bigint not null,
  segment text not null,
  head text not null,
  signed_at text not null,
  key_id text not null,
  signature text not null,
  witnessed_at timestamptz not null default now(),
  primary key (node_id, seq)
);
create or replace function rawrxd_audit_insert_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit witness rows are insert-only (% on %)', tg_op, tg_table_name;
end $$;
drop trigger if exists rawrxd_audit_nodes_insert_only on ${witnessNodesTable};
create trigger rawrxd_audit_nodes_insert_only before update or delete on ${witnessNodesTable}
  for each row execute function rawrxd_audit_insert_only();
drop trigger if exists rawrxd_audit_checkpoints_insert_only on ${witnessCheckpointsTable};
create trigger rawrxd_audit_checkpoints_insert_only before update or delete on ${witnessCheckpointsTable}
  for each row execute function rawrxd_audit_insert_only();
`;

/**
 * Creates the tables and triggers when missing (safe from every node at every start). Once they
 * exist nothing is altered, so a node's role then needs only INSERT and SELECT.
 */
export async function migrateWitnessTables(client: Queryable): Promise<void> {
  await client.query("begin");
  try {
    await client.query("select pg_advisory_xact_lock($1)", [migrationLock]);
    const { rows } = await client.query<{ triggers: string }>(
      `select count(*) as triggers from pg_trigger
       where tgname in ('rawrxd_audit_nodes_insert_only', 'rawrxd_audit_checkpoints_insert_only')`,
    );
    if (Number(rows[0]?.triggers ?? 0) < 2) await client.query(migration);
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

export class WitnessKeyError extends Error {
  override readonly name = "WitnessKeyError";
}

export class WitnessConflictError extends Error {
  override readonly name = "WitnessConflictError";
}

/**
 * Registers `publicKey` for `nodeId` on first use; throws WitnessKeyError when the node id is
 * already registered with another key (another server claims this node id, or this node's key
 * was replaced: both need an operator).
 */
export async function registerNodeKey(
  client: Queryable,
  node: { nodeId: string; publicKey: KeyObject; auditDirectory?: string },
): Promise<void> {
  const keyId = publicKeyId(node.publicKey);
  await client.query(
    `insert into ${witnessNodesTable} (node_id, key_id, public_key, audit_directory) values ($1, $2, $3, $4)
     on conflict (node_id) do nothing`,
    [node.nodeId, keyId, publicKeyPem(node.publicKey), node.auditDirectory ?? null],
  );
  const { rows } = await client.query<{ key_id: string }>(
    `select key_id from ${witnessNodesTable} where node_id = $1`,
    [node.nodeId],
  );
  const registered = rows[0]?.key_id;
  if (registered !== keyId)
    throw new WitnessKeyError(
      `the PostgreSQL audit witness refuses node "${node.nodeId}": it is registered with key ${registered ?? "(none)"}, ` +
        `this server signs with key ${keyId}. Another server uses this node id, or this node's signing key was replaced; ` +
        "give each node its own node id, or put back the node's key.",
    );
}

/**
 * Inserts one checkpoint row; a row already there for the same node and seq is accepted only
 * when it is the same checkpoint (a retry after a lost acknowledgement), else WitnessConflictError.
 */
export async function insertCheckpoint(
  client: Queryable,
  row: { checkpoint: Checkpoint; segment: string },
): Promise<void> {
  const { checkpoint, segment } = row;
  const inserted = await client.query(
    `insert into ${witnessCheckpointsTable} (node_id, seq, segment, head, signed_at, key_id, signature)
     values ($1, $2, $3, $4, $5, $6, $7) on conflict (node_id, seq) do nothing`,
    [
      checkpoint.node,
      checkpoint.seq,
      segment,
      checkpoint.head,
      checkpoint.time,
      checkpoint.keyId,
      checkpoint.signature,
    ],
  );
  if (inserted.rowCount === 1) return;
  const { rows } = await client.query<{ head: string; signature: string }>(
    `select head, signature from ${witnessCheckpointsTable} where node_id = $1 and seq = $2`,
    [checkpoint.node, checkpoint.seq],
  );
  const existing = rows[0];
  if (existing?.head === checkpoint.head && existing.signature === checkpoint.signature) return;
  throw new WitnessConflictError(
    `the PostgreSQL audit witness already holds another checkpoint for node "${checkpoint.node}" seq ${checkpoint.seq} ` +
      `(head ${existing?.head.slice(0, 16) ?? "?"}…, this one ${checkpoint.head.slice(0, 16)}…): ` +
      "the node's log was rewritten or another server writes under its node id; run rawrxd audit verify --cluster.",
  );
}

/** The newest seq witnessed for `nodeId`; 0 when none. */
export async function witnessedSeq(client: Queryable, nodeId: string): Promise<number> {
  const { rows } = await client.query<{ seq: string | null }>(
    `select max(seq) as seq from ${witnessCheckpointsTable} where node_id = $1`,
    [nodeId],
  );
  return Number(rows[0]?.seq ?? 0);
}

export interface WitnessedNode {
  nodeId: string;
  keyId: string;
  publicKey: KeyObject | undefined;
  publicKeyText: string;
  auditDirectory: string | null;
}

export interface WitnessedCheckpoint {
  checkpoint: Checkpoint;
  segment: string;
  witnessedAt: string;
}

/** Every node and its witnessed checkpoints, oldest seq first. */
export async function readWitness(
  client: Queryable,
): Promise<{ nodes: WitnessedNode[]; checkpoints: Map<string, WitnessedCheckpoint[]> }> {
  const nodeRows = await client.query<{
    node_id: string;
    key_id: string;
    public_key: string;
    audit_directory: string | null;
  }>(`select node_id, key_id, public_key, audit_directory from ${witnessNodesTable} order by node_id`);
  const nodes = nodeRows.rows.map((row) => ({
    nodeId: row.node_id,
    keyId: row.key_id,
    publicKey: parsePublicKey(row.public_key),
    publicKeyText: row.public_key,
    auditDirectory: row.audit_directory,
  }));
  const rows = await client.query<{
    node_id: string;
    seq: string;
    segment: string;
    head: string;
    signed_at: string;
    key_id: string;
    signature: string;
    witnessed_at: Date;
  }>(
    `select node_id, seq, segment, head, signed_at, key_id, signature, witnessed_at
     from ${witnessCheckpointsTable} order by node_id, seq`,
  );
  const checkpoints = new Map<string, WitnessedCheckpoint[]>();
  for (const row of rows.rows) {
    const list = checkpoints.get(row.node_id) ?? [];
    list.push({
      checkpoint: {
        seq: Number(row.seq),
        head: row.head,
        time: row.signed_at,
        node: row.node_id,
        keyId: row.key_id,
        signature: row.signature,
      },
      segment: row.segment,
      witnessedAt: new Date(row.witnessed_at).toISOString(),
    });
    checkpoints.set(row.node_id, list);
  }
  return { nodes, checkpoints };
}

function parsePublicKey(pem: string): KeyObject | undefined {
  try {
    return createPublicKey(pem);
  } catch {
    return undefined;
  }
}
