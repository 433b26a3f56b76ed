import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { auditPaths, queryAuditLog, type AuditRecord } from "../ops/index.js";
import { main } from "./index.js";
import { createRecordingIo } from "./test-io.testing.js";

let home: string;
let time: FakeTime;

beforeEach(() => {
  time = new FakeTime({ wallMs: Date.UTC(2026, 0, 1, 12) });
  home = mkdtempSync(join(tmpdir(), "rawrxd-cli-records-"));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function run(args: string[], env: Record<string, string> = {}) {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home, ...env } });
  const code = await main(args, io, { time });
  return { code, output: io.output(), errors: io.errors() };
}

async function records(): Promise<AuditRecord[]> {
  const found: AuditRecord[] = [];
  for await (const record of queryAuditLog(auditPaths(home).directory, {})) found.push(record);
  return found;
}

describe("records the CLI leaves when no server holds the log", () => {
  it("keys create and revoke: authentication records with key id cli and the OS user", async () => {
    const created = await run([
      "keys",
      "create",
      "--name",
      "ci",
      "--role",
      "user",
      "--max-priority",
      "normal",
    ]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.errors).not.toMatch(/Warning/);
    const keyId = /key (\w+) \(/.exec(created.errors)![1]!;
    expect((await run(["keys", "revoke", keyId])).code).toBe(0);
    expect((await run(["keys", "list"])).code).toBe(0);
    const [first, second] = await records();
    expect(first).toMatchObject({
      type: "authentication",
      action: "key-created",
      object: keyId,
      keyId: "cli",
    });
    expect(first!.details).toMatchObject({ name: "ci", role: "user", maxPriority: "normal", via: "direct" });
    expect(typeof first!.details["osUser"]).toBe("string");
    expect(second).toMatchObject({
      action: "key-revoked",
      object: keyId,
      keyId: "cli",
      details: { name: "ci" },
    });
    expect(await records()).toHaveLength(2);
  });

  it("audit verify and query: data records naming the reader, carrying what was read", async () => {
    await run(["keys", "create", "--name", "ops", "--role", "admin"]);
    expect((await run(["audit", "verify"])).code).toBe(0);
    const query = await run(["audit", "query", "--type", "authentication", "--format", "csv"]);
    expect(query.code).toBe(0);
    const reads = (await records()).filter((record) => record.type === "data");
    expect(reads.map((record) => [record.action, record.keyId])).toEqual([
      ["audit-verify", "cli"],
      ["audit-query", "cli"],
    ]);
    expect(reads[0]!.details).toMatchObject({ intact: true, records: 1, findings: 0, witness: false });
    expect(reads[1]!.details).toMatchObject({ format: "csv", records: 1, types: ["authentication"] });
    // The log with the CLI's own records still verifies.
    const again = await run(["audit", "verify"]);
    expect(again.output).toMatch(/^INTACT: 3 records/);
  });

  it("copies the checkpoint of a direct write to RAWRXD_AUDIT_WITNESS", async () => {
    const witness = join(home, "witness");
    await run(["keys", "create", "--name", "ci", "--role", "user"], { RAWRXD_AUDIT_WITNESS: witness });
    const result = await run(["audit", "verify", "--witness", witness]);
    expect(result.output).toMatch(
      /^INTACT: 1 records \(seq 1\.\.1\), 1 signed checkpoints verified, 1 witness checkpoints/,
    );
  });

  it("leaves no record with RAWRXD_NO_AUDIT", async () => {
    await run(["keys", "create", "--name", "ci", "--role", "user"], { RAWRXD_NO_AUDIT: "1" });
    expect(await records()).toEqual([]);
  });
});
