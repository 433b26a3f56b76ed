/**
 * `verifyAuditCluster` (issue #18): checks every node's audit folder against the checkpoints
 * the nodes witnessed in PostgreSQL. Each node's chain is verified with the public key the
 * node registered there on first use, and every witnessed checkpoint of that node must verify
 * with that key and name a record of its chain with the same head: a truncated or rewritten
 * node log, a forged row or a replaced key is reported with the node, segment and sequence.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readCheckpoints } from "./checkpoints.js";
import { listSegments, readSegment } from "./segment-files.js";
import { publicKeyId, readPublicKey } from "./signing-key.js";
import { verifyAuditLog, type WitnessedCheckpointEntry } from "./verify-audit-log.js";
import type { AuditFinding, AuditVerifyReport } from "./verify-findings.js";
import type { WitnessedCheckpoint, WitnessedNode } from "./witness-table.js";

export const witnessTableLabel = "PostgreSQL witness";

export interface ClusterWitness {
  nodes: WitnessedNode[];
  checkpoints: Map<string, WitnessedCheckpoint[]>;
}

export interface VerifyAuditClusterOptions {
  witness: ClusterWitness;
  /**
   * Node folders (a node's RAWRXD_HOME or its audit folder). Default: the audit folder each
   * node registered in the witness table (nodes on one machine or a shared mount).
   */
  nodeDirectories?: readonly string[];
}

export interface ClusterNodeReport {
  nodeId: string;
  /** The audit folder verified; null when none was found for this node. */
  directory: string | null;
  /** The key registered in PostgreSQL; null for a folder whose node never registered. */
  keyId: string | null;
  intact: boolean;
  /** Checkpoints of this node in PostgreSQL. */
  witnessed: number;
  /** The local verify report (chain, local and witnessed checkpoints); null without a folder. */
  report: AuditVerifyReport | null;
  findings: AuditFinding[];
}

export interface ClusterVerifyReport {
  intact: boolean;
  nodes: ClusterNodeReport[];
}

interface NodeFolder {
  nodeId: string | undefined;
  directory: string;
  /** The public key file beside it (a RAWRXD_HOME's audit-key/ed25519.pem.pub), when there. */
  publicKeyPath: string | undefined;
}

export async function verifyAuditCluster(options: VerifyAuditClusterOptions): Promise<ClusterVerifyReport> {
  const { witness } = options;
  const folders =
    options.nodeDirectories === undefined
      ? witness.nodes
          .filter((node) => node.auditDirectory !== null)
          .map((node) => ({ nodeId: node.nodeId, directory: node.auditDirectory!, publicKeyPath: undefined }))
      : await Promise.all(options.nodeDirectories.map((directory) => nodeFolder(directory)));
  const reports: ClusterNodeReport[] = [];
  for (const node of witness.nodes) {
    const folder = folders.find((candidate) => candidate.nodeId === node.nodeId);
    reports.push(await verifyNode(node, folder, witness.checkpoints.get(node.nodeId) ?? []));
  }
  for (const folder of folders) {
    if (witness.nodes.some((node) => node.nodeId === folder.nodeId)) continue;
    reports.push(unregistered(folder));
  }
  return { intact: reports.every((report) => report.intact), nodes: reports };
}

async function verifyNode(
  node: WitnessedNode,
  folder: NodeFolder | undefined,
  witnessed: readonly WitnessedCheckpoint[],
): Promise<ClusterNodeReport> {
  const base = { nodeId: node.nodeId, keyId: node.keyId, witnessed: witnessed.length };
  const refuse = (finding: AuditFinding, directory: string | null = null): ClusterNodeReport => ({
    ...base,
    directory,
    intact: false,
    report: null,
    findings: [finding],
  });
  if (node.publicKey === undefined)
    return refuse({
      kind: "key-mismatch",
      severity: "error",
      message: `the public key registered in PostgreSQL for node "${node.nodeId}" is not a valid key: the witness table was altered`,
    });
  if (folder === undefined || !existsSync(folder.directory))
    return refuse({
      kind: "missing-node",
      severity: "error",
      message: `node "${node.nodeId}" has ${witnessed.length} checkpoint(s) witnessed in PostgreSQL but ${folder === undefined ? "no audit folder was given for it (add --node DIR)" : "its audit folder is gone"}`,
    });
  const findings: AuditFinding[] = [];
  if (folder.publicKeyPath !== undefined) {
    const localKeyId = publicKeyId(await readPublicKey(folder.publicKeyPath));
    if (localKeyId !== node.keyId)
      findings.push({
        kind: "key-mismatch",
        severity: "error",
        message: `node "${node.nodeId}" has public key ${localKeyId} beside its folder, but registered key ${node.keyId} in PostgreSQL: the node's key was replaced after it first signed`,
      });
  }
  const entries: WitnessedCheckpointEntry[] = witnessed.map((row, index) => ({
    line: index + 1,
    text: "",
    checkpoint: row.checkpoint,
    segment: row.segment,
  }));
  const report = await verifyAuditLog({
    directory: folder.directory,
    publicKey: node.publicKey,
    witnessedCheckpoints: { label: witnessTableLabel, checkpoints: entries },
  });
  findings.push(...report.findings.map((finding) => placeWitnessed(finding, entries)));
  const lastWitnessed = Math.max(0, ...witnessed.map((row) => row.checkpoint.seq));
  if (report.lastSeq !== null && lastWitnessed < report.lastSeq)
    findings.push({
      kind: "unwitnessed-tail",
      severity: "notice",
      message: `records seq ${lastWitnessed + 1}..${report.lastSeq} are not yet covered by a checkpoint in PostgreSQL (the node queues them while PostgreSQL is down, or has not signed them yet)`,
      seq: lastWitnessed + 1,
    });
  return {
    ...base,
    directory: folder.directory,
    intact: findings.every((finding) => finding.severity !== "error"),
    report,
    findings,
  };
}

/** A finding about a witnessed row also says which segment the witness placed its record in. */
function placeWitnessed(finding: AuditFinding, entries: readonly WitnessedCheckpointEntry[]): AuditFinding {
  if (finding.segment !== witnessTableLabel) return finding;
  const segment = entries[(finding.line ?? 0) - 1]?.segment;
  return {
    ...finding,
    message: `${finding.message} (PostgreSQL row seq ${finding.seq ?? "?"}, witnessed in ${segment ?? "?"})`,
  };
}

function unregistered(folder: NodeFolder): ClusterNodeReport {
  return {
    nodeId: folder.nodeId ?? "(unknown)",
    directory: folder.directory,
    keyId: null,
    intact: true,
    witnessed: 0,
    report: null,
    findings: [
      {
        kind: "unregistered-node",
        severity: "warning",
        message: `the folder ${folder.directory} belongs to node "${folder.nodeId ?? "(no records)"}", which never registered with the PostgreSQL witness: nothing of it can be checked against the cluster (verify it alone with rawrxd audit verify)`,
      },
    ],
  };
}

/** A node folder: RAWRXD_HOME (with audit/ and audit-key/) or the audit folder itself. */
async function nodeFolder(path: string): Promise<NodeFolder> {
  const isHome = existsSync(join(path, "audit"));
  const directory = isHome ? join(path, "audit") : path;
  const publicKeyPath = join(path, "audit-key", "ed25519.pem.pub");
  return {
    nodeId: await nodeIdOf(directory),
    directory,
    publicKeyPath: isHome && existsSync(publicKeyPath) ? publicKeyPath : undefined,
  };
}

/** The node id a folder's checkpoints (or, without any, its first record) name. */
async function nodeIdOf(directory: string): Promise<string | undefined> {
  for (const stored of await readCheckpoints(directory).catch(() => []))
    if (stored.checkpoint !== undefined) return stored.checkpoint.node;
  for (const segment of await listSegments(directory).catch(() => [])) {
    const record = (await readSegment(segment.path)).lines.find((line) => line.record !== undefined)?.record;
    if (record !== undefined) return record.node;
  }
  return undefined;
}
