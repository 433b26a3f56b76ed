/**
 * The server writes the audit log (issue #11): a start, the settings, requests that completed
 * and were cancelled, a failed authentication and the stop leave records whose chain and signed
 * checkpoints verify offline with only the public key, and no API key text is written.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/app/index.js";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger } from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import {
  auditPaths,
  queryAuditLog,
  readPublicKey,
  verifyAuditLog,
  type AuditRecord,
} from "../../src/ops/index.js";
import {
  baseFlags,
  bodyOf,
  makeHome,
  postJson,
  rawPost,
  startTestServer,
  waitFor,
  type TestServer,
} from "./helpers.js";

const configKey = "sk-audit-wiring-secret-0123456789";
const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

async function cli(home: string, args: string[]): Promise<{ code: number; output: string; errors: string }> {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home } });
  const code = await main(args, io);
  return { code, output: io.output(), errors: io.errors() };
}

describe("the server's audit log", () => {
  let test: TestServer;
  let records: AuditRecord[];
  let managed: { key: string; id: string };
  let adminMade: { key: string; id: string };
  const requestIds: string[] = [];
  let liveReport: { intact: boolean; records: number; findings: unknown[] };
  const livePages: { records: AuditRecord[]; next_after: number | null }[] = [];

  beforeAll(async () => {
    test = await startTestServer({
      models: { alpha: { reply: "one two three four five six seven eight", tokenDelayMs: 30 } },
      flags: { "api-keys": configKey, "auth-failures-per-minute": "0" },
    });
    test.server.events.on("request-end", (event) => requestIds.push(event.requestId));
    const created = await cli(test.home, [
      "keys",
      "create",
      "--name",
      "app",
      "--role",
      "user",
      "--max-priority",
      "normal",
    ]);
    expect(created.code, created.errors).toBe(0);
    managed = { key: created.output.trim(), id: created.output.trim().slice(4, 16) };

    const completed = await postJson(
      `${test.url}/v1/chat/completions`,
      {
        model: "alpha",
        messages: [{ role: "user", content: "a private prompt" }],
        max_tokens: 4,
        priority: "high",
      },
      { headers: bearer(managed.key) },
    );
    expect(completed.status).toBe(200);
    await bodyOf(completed);

    const streamed = rawPost(
      `${test.url}/v1/chat/completions`,
      { model: "alpha", messages: [{ role: "user", content: "go" }], stream: true },
      bearer(configKey),
    );
    const response = await streamed.response;
    await new Promise((done) => response.once("data", done));
    streamed.destroy();
    await waitFor(() => requestIds.length === 2, "the cancelled request to end", 2000);

    const made = await postJson(
      `${test.url}/v1/admin/keys`,
      { name: "ops", role: "admin" },
      { headers: bearer(configKey) },
    );
    expect(made.status).toBe(201);
    adminMade = (await bodyOf(made)) as { key: string; id: string };
    const revoked = await fetch(`${test.url}/v1/admin/keys/${adminMade.id}`, {
      method: "DELETE",
      headers: bearer(configKey),
    });
    expect(revoked.status).toBe(200);
    await revoked.arrayBuffer();

    const anonymous = await fetch(`${test.url}/v1/models`);
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();

    // The admin audit routes, while the server runs: a user key may not read the log.
    const verified = await fetch(`${test.url}/v1/audit/verify`, { headers: bearer(configKey) });
    expect(verified.status).toBe(200);
    liveReport = (await verified.json()) as typeof liveReport;
    const firstPage = await fetch(`${test.url}/v1/audit?type=inference&limit=1`, {
      headers: bearer(configKey),
    });
    expect(firstPage.status).toBe(200);
    livePages.push((await firstPage.json()) as (typeof livePages)[number]);
    const secondPage = await fetch(
      `${test.url}/v1/audit?type=inference&limit=1&after=${livePages[0]!.next_after}`,
      { headers: bearer(configKey) },
    );
    livePages.push((await secondPage.json()) as (typeof livePages)[number]);
    const byUser = await fetch(`${test.url}/v1/audit`, { headers: bearer(managed.key) });
    expect(byUser.status).toBe(403);
    await byUser.arrayBuffer();
    const badType = await fetch(`${test.url}/v1/audit?type=everything`, { headers: bearer(configKey) });
    expect(badType.status).toBe(400);
    await badType.arrayBuffer();

    await test.server.close();
    records = [];
    for await (const record of queryAuditLog(auditPaths(test.home).directory)) records.push(record);
  });
  afterAll(async () => test?.dispose());

  const find = (type: string, action: string): AuditRecord[] =>
    records.filter((record) => record.type === type && record.action === action);

  it("verifies intact with only the public key, from the library and from `rawrxd audit verify`", async () => {
    const paths = auditPaths(test.home);
    const report = await verifyAuditLog({
      directory: paths.directory,
      publicKey: await readPublicKey(paths.publicKey),
    });
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ intact: true, records: records.length });
    expect(report.checkpointsVerified).toBeGreaterThan(0);
    const verified = await cli(test.home, ["audit", "verify"]);
    expect(verified.code, verified.output + verified.errors).toBe(0);
    expect(verified.output).toMatch(/^INTACT/);
  });

  it("opens with the start and every setting, and closes with the stop", () => {
    expect(records[0]).toMatchObject({ type: "system", action: "start" });
    expect(records[1]).toMatchObject({ type: "configuration", action: "settings-at-start" });
    expect(records[1]!.details).toMatchObject({
      home: test.home,
      apiKeys: { count: 1, ids: ["config-1"] },
      noAudit: false,
    });
    expect(records.at(-1)).toMatchObject({ type: "system", action: "stop", details: { reason: "shutdown" } });
  });

  it("records each request with its key, model, token counts and outcome, and never its prompt", () => {
    const inference = find("inference", "generate");
    expect(inference.map((record) => record.requestId)).toEqual(requestIds);
    expect(inference[0]).toMatchObject({
      keyId: managed.id,
      address: "127.0.0.1",
      object: "alpha",
      outcome: "success",
      details: {
        finishReason: "length",
        promptTokens: expect.any(Number),
        completionTokens: 4,
        // The key is capped at normal: the record says what was asked and what was granted.
        priorityAsked: "high",
        priorityGranted: "normal",
      },
    });
    expect(inference[0]!.details["promptTokens"]).toBeGreaterThan(0);
    expect(inference[1]).toMatchObject({
      keyId: "config-1",
      object: "alpha",
      outcome: "cancelled",
      details: { finishReason: "cancelled" },
    });
    expect(JSON.stringify(records)).not.toContain("a private prompt");
  });

  it("serves the verifier and paged queries to admin keys, and records each read", () => {
    // While the server runs, records after the last checkpoint are an unsigned tail: a warning.
    expect(liveReport.intact).toBe(true);
    expect(liveReport.findings).toEqual([
      expect.objectContaining({ kind: "unsigned-tail", severity: "warning" }),
    ]);
    expect(liveReport.records).toBeGreaterThan(5);
    expect(livePages.map((page) => page.records.map((record) => record.requestId))).toEqual([
      [requestIds[0]],
      [requestIds[1]],
    ]);
    expect(livePages[0]!.next_after).toBe(livePages[0]!.records[0]!.seq);
    expect(livePages[1]!.next_after).toBeNull();
    expect(find("data", "audit-verify")).toEqual([
      expect.objectContaining({
        keyId: "config-1",
        address: "127.0.0.1",
        details: expect.objectContaining({ intact: true }),
      }),
    ]);
    expect(find("data", "audit-query").map((record) => record.details["records"])).toEqual([1, 1]);
  });

  it("records keys created and revoked through the admin routes, by whom", () => {
    expect(find("authentication", "key-created").filter((record) => record.keyId !== "cli")).toEqual([
      expect.objectContaining({
        object: adminMade.id,
        keyId: "config-1",
        details: expect.objectContaining({ role: "admin" }),
      }),
    ]);
    expect(find("authentication", "key-revoked")).toEqual([
      expect.objectContaining({ object: adminMade.id, keyId: "config-1" }),
    ]);
  });

  it("records the failed authentication and the model load", () => {
    expect(find("authentication", "failed")).toContainEqual(
      expect.objectContaining({
        outcome: "denied",
        object: "GET /v1/models",
        address: expect.stringMatching(/127\.0\.0\.1/),
        details: { reason: "missing-key" },
      }),
    );
    expect(find("model", "load")).toContainEqual(
      expect.objectContaining({ object: "alpha", outcome: "success" }),
    );
  });

  it("records the key created with the CLI beside the running server, handed over through the inbox", () => {
    const [record] = find("authentication", "key-created").filter((candidate) => candidate.keyId === "cli");
    expect(record).toMatchObject({ object: managed.id, address: "local" });
    expect(record!.details).toMatchObject({ name: "app", role: "user", maxPriority: "normal", via: "inbox" });
    expect(typeof record!.details["osUser"]).toBe("string");
  });

  it("writes no API key text anywhere in the audit folder", () => {
    const directory = auditPaths(test.home).directory;
    for (const name of readdirSync(directory).filter((entry) => entry.endsWith(".jsonl"))) {
      const text = readFileSync(join(directory, name), "utf8");
      expect(text).not.toContain(configKey);
      expect(text).not.toContain(managed.key);
      expect(text).not.toContain(adminMade.key);
    }
  });
});

describe("--no-audit", () => {
  it("writes no audit folder and no signing key", async () => {
    const test = await startTestServer({ flags: { "no-audit": "true" } });
    try {
      const completed = await postJson(`${test.url}/v1/chat/completions`, {
        model: "alpha",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(completed.status).toBe(200);
      await completed.arrayBuffer();
      await test.server.close();
      expect(readdirSync(test.home).sort()).not.toContain("audit");
      expect(readdirSync(test.home).sort()).not.toContain("audit-key");
    } finally {
      await test.dispose();
    }
  });
});

describe("an audit log that cannot be opened", () => {
  it("stops the start with what to fix, and --no-audit starts anyway", async () => {
    const { home, modelsDir } = makeHome(["alpha"]);
    try {
      // A file where the audit folder should be.
      writeFileSync(join(home, "audit"), "not a folder");
      const flags = { ...baseFlags(home, modelsDir) };
      const engine = new FakeEngine({ alpha: {} });
      const options = { engine, logger: silentLogger, handleSignals: false };
      await expect(
        startServer(loadConfig({ flags, env: {}, readConfigFile: false }), options),
      ).rejects.toThrow(/Cannot open the audit log in .*--no-audit/);
      const server = await startServer(
        loadConfig({ flags: { ...flags, "no-audit": "true" }, env: {}, readConfigFile: false }),
        options,
      );
      await server.close();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
