/**
 * `rawrxd serve --audit-witness-url postgres://…` (issue #18): the server's checkpoints reach a
 * real PostgreSQL, GET /v1/audit/status shows the witness, a PostgreSQL outage leaves serving
 * (and the stop) unaffected, the settings record never holds the URL's password, and
 * `verify --cluster` passes on the node afterwards.
 */
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditPaths, queryAuditLog, readPostgresWitness, verifyAuditCluster } from "../../src/ops/index.js";
import { bodyOf, postJson, startTestServer, waitFor, type Json } from "../e2e/helpers.js";
import { PostgresTestServer } from "../support/postgres-server.js";

let postgres: PostgresTestServer;

beforeAll(async () => {
  postgres = await PostgresTestServer.start();
});
afterAll(async () => {
  await postgres.dispose();
});

describe("the server's PostgreSQL audit witness", () => {
  it("witnesses the server's checkpoints; an outage neither stops requests nor the stop", async () => {
    postgres.createDatabase("server");
    // Trust authentication ignores the password: it is here to be kept out of every record.
    const url = `postgres://rawrxd:pw-never-shown@127.0.0.1:${postgres.port}/server`;
    const test = await startTestServer({
      models: { alpha: { reply: "one two three" } },
      flags: { "audit-witness-url": url },
    });
    try {
      const status = await waitFor(
        async () => {
          const body: Json = await bodyOf(await fetch(`${test.url}/v1/audit/status`));
          return body.witness.postgres.written >= 1 ? (body as Record<string, unknown>) : undefined;
        },
        "the start checkpoint in PostgreSQL",
        10_000,
      );
      expect(status).toMatchObject({
        node: hostname(),
        health: { state: "writable" },
        witness: { folder: false, postgres: { state: "idle", pending: 0, lastError: null } },
      });

      await postgres.stop();
      for (let index = 0; index < 3; index += 1) {
        const response = await postJson(`${test.url}/v1/chat/completions`, {
          model: "alpha",
          messages: [{ role: "user", content: "hi" }],
        });
        expect(response.status).toBe(200);
        await response.text();
      }
      await test.server.close();
      const records = [];
      for await (const record of queryAuditLog(auditPaths(test.home).directory, {})) records.push(record);
      expect(JSON.stringify(records)).not.toContain("pw-never-shown");
      expect(
        records.find((record) => record.action === "settings-at-start")?.details["auditWitnessUrl"],
      ).toBe(`postgres://rawrxd:***@127.0.0.1:${postgres.port}/server`);

      await postgres.restart();
      const report = await verifyAuditCluster({
        witness: await readPostgresWitness(url),
        nodeDirectories: [test.home],
      });
      expect(report.intact).toBe(true);
      expect(report.nodes.map((node) => node.nodeId)).toEqual([hostname()]);
      // The stop's checkpoint could not be witnessed: a notice, not a failure.
      expect(report.nodes[0]!.findings.map((finding) => finding.kind)).toEqual(["unwitnessed-tail"]);
    } finally {
      await test.dispose();
    }
  });
});
