/**
 * `rawrxd audit verify --cluster postgres://…` (issue #18) on three real audit nodes and a real
 * PostgreSQL: exit 0 and one line per node when all verify, exit 1 naming node 2 when its log
 * was cut, JSON with --json, --node folders, and an unreachable witness said without secrets.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { queryAuditLog, type ClusterVerifyReport } from "../../src/ops/index.js";
import { PostgresTestServer } from "../support/postgres-server.js";
import { drainWitnesses, startAuditNodes } from "./audit-nodes.testing.js";

let postgres: PostgresTestServer;
let url: string;
let started: Awaited<ReturnType<typeof startAuditNodes>>;
let cliHome: string;

beforeAll(async () => {
  postgres = await PostgresTestServer.start();
  url = postgres.createDatabase("cli");
  started = await startAuditNodes(url);
  for (const node of started.nodes) {
    await node.write(7);
    await node.close();
  }
  await drainWitnesses(started.nodes, started.time);
  cliHome = mkdtempSync(join(tmpdir(), "rawrxd-audit-cli-home-"));
});
afterAll(async () => {
  await started.dispose();
  await postgres.dispose();
  rmSync(cliHome, { recursive: true, force: true });
});

async function run(...args: string[]) {
  const io = createRecordingIo({ env: { RAWRXD_HOME: cliHome } });
  const code = await main(["audit", "verify", ...args], io, { time: started.time });
  return { code, output: io.output(), errors: io.errors() };
}

describe("rawrxd audit verify --cluster", () => {
  it("exits 0 with one line per node when every node verifies, and records the check", async () => {
    const result = await run("--cluster", url);
    expect(result).toMatchObject({ code: 0, errors: "" });
    const lines = result.output.trimEnd().split("\n");
    expect(lines[0]).toBe("CLUSTER INTACT: 3 node(s), 9 checkpoints witnessed in PostgreSQL");
    expect(lines).toHaveLength(4);
    for (const [index, nodeId] of ["node-1", "node-2", "node-3"].entries())
      expect(lines[index + 1]).toMatch(
        new RegExp(
          `^${nodeId}: INTACT: 7 records \\(seq 1\\.\\.7\\), 3 signed checkpoints verified, 3 of 3 witnessed in PostgreSQL, key [0-9a-f]{16} \\(.*${nodeId}/audit\\)$`,
        ),
      );
    const records = [];
    for await (const record of queryAuditLog(join(cliHome, "audit"), { types: ["data"] }))
      records.push(record);
    expect(records.at(-1)).toMatchObject({
      action: "audit-verify-cluster",
      keyId: "cli",
      details: { intact: true, nodes: 3, notIntact: [], findings: 0 },
    });
  });

  it("--json with --node homes gives the whole report", async () => {
    const result = await run(
      "--cluster",
      url,
      "--json",
      ...started.nodes.flatMap((node) => ["--node", node.home]),
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.output) as ClusterVerifyReport;
    expect(report.intact).toBe(true);
    expect(report.nodes.map((node) => [node.nodeId, node.witnessed, node.report?.records])).toEqual([
      ["node-1", 3, 7],
      ["node-2", 3, 7],
      ["node-3", 3, 7],
    ]);
  });

  it("exits 1 and names node 2, the segment and the sequence when node 2's log lost its tail", async () => {
    const node2 = started.nodes[1]!;
    const segment = join(
      node2.directory,
      readdirSync(node2.directory).find((name) => name.startsWith("segment-"))!,
    );
    chmodSync(segment, 0o644);
    const lines = readFileSync(segment, "utf8").split("\n").slice(0, -1);
    writeFileSync(
      segment,
      lines
        .slice(0, 5)
        .map((line) => line + "\n")
        .join(""),
    );
    writeFileSync(join(node2.directory, "checkpoints.jsonl"), "");
    const result = await run("--cluster", url);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^CLUSTER NOT INTACT: 3 node\(s\), 1 not intact/);
    expect(result.output).toMatch(/\nnode-1: INTACT/);
    expect(result.output).toMatch(/\nnode-2: NOT INTACT/);
    expect(result.output).toMatch(
      /\n {2}ERROR truncated-tail \(PostgreSQL witness:3, seq 7\): the log ends at seq 5 but a checkpoint signed at .* covers seq 7: 2 records are gone from the end \(PostgreSQL row seq 7, witnessed in segment-000001-20261201\.jsonl\)/,
    );
  });

  it("an unreachable witness is an error that names host and database, never the password", async () => {
    const result = await run("--cluster", `postgres://rawrxd:hunter2@127.0.0.1:1/nowhere`);
    expect(result.code).toBe(1);
    expect(result.errors).toMatch(
      /cannot read the audit witness in postgres:\/\/rawrxd:\*\*\*@127\.0\.0\.1:1\/nowhere/,
    );
    expect(result.errors).not.toContain("hunter2");
  });
});
