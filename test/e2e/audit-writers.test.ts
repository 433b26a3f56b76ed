/**
 * Who writes the audit log (issue #11, ADR 0015): one server per audit folder, the CLI beside a
 * running server hands its records over, successful authentications and metrics exports are on
 * record, and a witness folder catches a rewrite of the whole audit folder with a new key.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/app/index.js";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger } from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import {
  AuditLog,
  auditPaths,
  loadOrCreateSigningKey,
  queryAuditLog,
  type AuditRecord,
} from "../../src/ops/index.js";
import { baseFlags, startTestServer, type TestServer } from "./helpers.js";

const configKey = "sk-audit-writers-secret-0123456789";
const admin = { authorization: `Bearer ${configKey}` };

async function cli(home: string, args: string[]): Promise<{ code: number; output: string; errors: string }> {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home } });
  const code = await main(args, io);
  return { code, output: io.output(), errors: io.errors() };
}

async function readRecords(home: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of queryAuditLog(auditPaths(home).directory, {})) records.push(record);
  return records;
}

describe("a server with --audit-witness, beside the CLI", () => {
  let test: TestServer;
  let witness: string;
  let records: AuditRecord[];
  let user: { key: string; id: string };
  let secondStart: unknown;
  let verifyWhileRunning: { code: number; errors: string };
  const find = (type: string, action: string): AuditRecord[] =>
    records.filter((record) => record.type === type && record.action === action);

  beforeAll(async () => {
    witness = mkdtempSync(join(tmpdir(), "rawrxd-witness-"));
    test = await startTestServer({ flags: { "api-keys": configKey, "audit-witness": witness } });
    // A second server on the same RAWRXD_HOME must not fork the chain.
    const config = loadConfig({
      flags: { ...baseFlags(test.home, test.modelsDir), "api-keys": configKey, port: "0" },
      env: {},
      readConfigFile: false,
    });
    secondStart = await startServer(config, {
      engine: new FakeEngine({ alpha: {} }),
      logger: silentLogger,
      handleSignals: false,
    }).catch((error: unknown) => error);

    const created = await cli(test.home, ["keys", "create", "--name", "app", "--role", "user"]);
    expect(created.code, created.errors).toBe(0);
    user = { key: created.output.trim(), id: created.output.trim().slice(4, 16) };
    const bearer = { authorization: `Bearer ${user.key}` };
    for (let index = 0; index < 2; index += 1) {
      expect((await fetch(`${test.url}/v1/models`, { headers: bearer })).status).toBe(200);
      expect((await fetch(`${test.url}/v1/admin/keys`, { headers: admin })).status).toBe(200);
    }
    expect((await fetch(`${test.url}/v1/metrics`, { headers: admin })).status).toBe(200);
    expect((await fetch(`${test.url}/v1/metrics?format=csv&window=1m`, { headers: admin })).status).toBe(200);
    expect((await fetch(`${test.url}/v1/metrics/requests?limit=5`, { headers: admin })).status).toBe(200);
    verifyWhileRunning = await cli(test.home, ["audit", "verify", "--witness", witness]);
    await test.server.close();
    records = await readRecords(test.home);
  });

  afterAll(async () => {
    await test?.dispose();
    rmSync(witness, { recursive: true, force: true });
  });

  it("refuses a second server on the same audit folder, naming the running one's pid", () => {
    expect(secondStart).toBeInstanceOf(Error);
    expect((secondStart as Error).message).toMatch(
      new RegExp(`held by another writer: server pid ${process.pid} .*Another server on this RAWRXD_HOME`),
    );
  });

  it("takes the CLI's records through its inbox: the key created and the verify", () => {
    expect(verifyWhileRunning.code).toBe(0);
    expect(verifyWhileRunning.errors).toBe(
      `rawrxd audit: Audit record handed to the server (pid ${process.pid}), which has it on record.\n`,
    );
    expect(find("authentication", "key-created")).toEqual([
      expect.objectContaining({
        keyId: "cli",
        object: user.id,
        details: expect.objectContaining({ via: "inbox" }),
      }),
    ]);
    expect(find("data", "audit-verify")).toEqual([
      expect.objectContaining({
        keyId: "cli",
        details: expect.objectContaining({ intact: true, witness: true, via: "inbox" }),
      }),
    ]);
  });

  it("records the first use of each key, and every admin-route use, not every request", () => {
    const successes = find("authentication", "success").map((record) => [
      record.keyId,
      record.object,
      record.details["firstUse"],
      record.details["adminRoute"],
    ]);
    expect(successes.filter(([keyId]) => keyId === user.id)).toEqual([
      [user.id, "GET /v1/models", true, false],
    ]);
    // The metrics reads with the same key are monitoring: not recorded per use.
    expect(successes.filter(([keyId]) => keyId === "config-1")).toEqual([
      ["config-1", "GET /v1/admin/keys", true, true],
      ["config-1", "GET /v1/admin/keys", false, true],
    ]);
  });

  it("records metrics exports with their reader; a plain /v1/metrics read is not an export", () => {
    expect(
      find("data", "metrics-export").map((record) => [record.keyId, record.object, record.details]),
    ).toEqual([
      ["config-1", "/v1/metrics", { format: "csv", window: "1m" }],
      ["config-1", "/v1/metrics/requests", { format: "json", rows: expect.any(Number) }],
    ]);
  });

  it("has a witness that catches a rewrite of the whole audit folder with a new key", async () => {
    const paths = auditPaths(test.home);
    rmSync(paths.directory, { recursive: true });
    rmSync(join(test.home, "audit-key"), { recursive: true });
    // The attacker writes a plausible log with a fresh key and leaves its public key in place.
    const forged = await AuditLog.open({
      directory: paths.directory,
      signingKey: await loadOrCreateSigningKey(paths.privateKey),
      nodeId: "forged",
    });
    await forged.record({ type: "system", action: "start" });
    await forged.close();
    expect((await cli(test.home, ["audit", "verify"])).output).toMatch(/^INTACT/);
    const result = await cli(test.home, ["audit", "verify", "--witness", witness]);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^NOT INTACT/);
    expect(result.output).toMatch(
      /ERROR witness-mismatch \(witness checkpoints\.jsonl:1.*the log was rewritten with another key/,
    );
  });
});

describe("an unreachable witness", () => {
  it("degrades the audit log but the server still starts and serves", async () => {
    const blocker = mkdtempSync(join(tmpdir(), "rawrxd-witness-blocked-"));
    const witness = join(blocker, "file");
    writeFileSync(witness, "a file where the witness folder should be");
    const test = await startTestServer({ flags: { "audit-witness": join(witness, "sub") } });
    try {
      expect((await fetch(`${test.url}/health`)).status).toBe(200);
      await test.server.close();
      const degraded = (await readRecords(test.home)).find((record) => record.action === "health-degraded");
      expect(degraded).toMatchObject({ type: "system", level: "error", object: "audit-log" });
      expect(String(degraded!.details["reason"])).toMatch(/^witness: /);
    } finally {
      await test.dispose();
      rmSync(blocker, { recursive: true, force: true });
    }
  });
});
