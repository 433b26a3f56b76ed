/**
 * `rawrxd audit verify --cluster postgres://… [--node DIR]… [--json]` (issue #18): every node's
 * chain against the checkpoints the nodes witnessed in PostgreSQL. Offline: it reads the
 * witness tables and the node folders (given with --node, or those the nodes registered).
 * Exit 0 only when every node is intact.
 */
import {
  formatFinding,
  readPostgresWitness,
  verifyAuditCluster,
  witnessUrlForDisplay,
  type CliAuditRequest,
  type ClusterNodeReport,
  type ClusterVerifyReport,
} from "../ops/index.js";
import { CliError, type CommandContext } from "./cli-io.js";

export interface ClusterVerifyRequest {
  url: string;
  /** Node folders (RAWRXD_HOME or audit folder); none: the folders the nodes registered. */
  nodes: string[] | undefined;
  json: boolean;
}

export async function verifyCluster(
  request: ClusterVerifyRequest,
  context: CommandContext,
): Promise<{ code: number; record: CliAuditRequest }> {
  let witness;
  try {
    witness = await readPostgresWitness(request.url);
  } catch (error) {
    throw new CliError(
      `rawrxd audit verify: cannot read the audit witness in ${witnessUrlForDisplay(request.url)} ` +
        `(${(error as Error).message}). Check that PostgreSQL runs and the URL names the cluster's database.`,
    );
  }
  const report = await verifyAuditCluster({
    witness,
    ...(request.nodes === undefined || request.nodes.length === 0 ? {} : { nodeDirectories: request.nodes }),
  });
  context.io.stdout.write(
    request.json ? JSON.stringify(report, null, 2) + "\n" : formatClusterReport(report),
  );
  return {
    code: report.intact ? 0 : 1,
    record: {
      type: "data",
      action: "audit-verify-cluster",
      object: "audit-log",
      details: {
        intact: report.intact,
        nodes: report.nodes.length,
        notIntact: report.nodes
          .filter((node) => !node.intact)
          .map((node) => node.nodeId.slice(0, 200))
          .slice(0, 256),
        findings: report.nodes.reduce((sum, node) => sum + node.findings.length, 0),
      },
    },
  };
}

/** One summary line for the cluster, one per node, and each node's findings indented under it. */
export function formatClusterReport(report: ClusterVerifyReport): string {
  const broken = report.nodes.filter((node) => !node.intact).length;
  const witnessed = report.nodes.reduce((sum, node) => sum + node.witnessed, 0);
  const lines = [
    `CLUSTER ${report.intact ? "INTACT" : "NOT INTACT"}: ${report.nodes.length} node(s)${broken === 0 ? "" : `, ${broken} not intact`}, ${witnessed} checkpoints witnessed in PostgreSQL`,
  ];
  for (const node of report.nodes) {
    lines.push(`${node.nodeId}: ${nodeSummary(node)}`);
    for (const finding of node.findings) lines.push(`  ${formatFinding(finding)}`);
  }
  return lines.join("\n") + "\n";
}

function nodeSummary(node: ClusterNodeReport): string {
  const state = node.intact ? "INTACT" : "NOT INTACT";
  const report = node.report;
  if (report === null) return `${state}${node.directory === null ? "" : ` (${node.directory})`}`;
  const range = report.firstSeq === null ? "no records" : `seq ${report.firstSeq}..${report.lastSeq}`;
  return (
    `${state}: ${report.records} records (${range}), ${report.checkpointsVerified} signed checkpoints verified, ` +
    `${report.witnessCheckpointsVerified} of ${node.witnessed} witnessed in PostgreSQL, key ${node.keyId ?? "?"} (${node.directory})`
  );
}
