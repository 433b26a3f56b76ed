import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { AuditLog, auditPaths, loadOrCreateSigningKey } from "../ops/index.js";
import { main } from "./index.js";
import { createRecordingIo } from "./test-io.testing.js";

let home: string;
let time: FakeTime;

beforeEach(async () => {
  time = new FakeTime({ wallMs: Date.UTC(2026, 0, 1, 12) });
  home = mkdtempSync(join(tmpdir(), "rawrxd-audit-cli-"));
  const paths = auditPaths(home);
  const log = await AuditLog.open({
    directory: paths.directory,
    signingKey: await loadOrCreateSigningKey(paths.privateKey),
    nodeId: "node-cli",
    time,
    checkpointEveryRecords: 2,
  });
  await log.record({ type: "system", action: "start" });
  time.advance(60_000);
  await log.record({ type: "inference", action: "generate", keyId: "rxd_alice", requestId: "req-7" });
  await log.record({
    type: "authentication",
    action: "key-rejected",
    outcome: "denied",
    address: "192.0.2.1",
  });
  await log.close();
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function run(...args: string[]) {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home } });
  const code = await main(["audit", ...args], io, { time });
  return { code, output: io.output(), errors: io.errors() };
}

describe("rawrxd audit verify", () => {
  it("exits 0 on an intact log with only the public key", async () => {
    const result = await run("verify");
    expect(result).toMatchObject({ code: 0, errors: "" });
    expect(result.output).toMatch(/^INTACT: 3 records \(seq 1\.\.3\), 2 signed checkpoints verified\n$/);
  });

  it("--json prints the verifier's report", async () => {
    const result = await run("verify", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.output)).toMatchObject({
      intact: true,
      records: 3,
      firstSeq: 1,
      lastSeq: 3,
      findings: [],
    });
  });

  it("exits 1 and names the place of a modified record", async () => {
    const directory = auditPaths(home).directory;
    const segment = join(
      directory,
      readdirSync(directory).find((name) => name.startsWith("segment-"))!,
    );
    chmodSync(segment, 0o644);
    writeFileSync(segment, readFileSync(segment, "utf8").replace("rxd_alice", "rxd_mallory"));
    const result = await run("verify");
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^NOT INTACT/);
    expect(result.output).toMatch(
      /ERROR modified-record \(segment-000001-20260101\.jsonl:2, seq 2\): the record's content does not match its hash/,
    );
  });

  it("says which key file it could not read", async () => {
    const result = await run("verify", "--public-key", join(home, "nope.pem"));
    expect(result.code).toBe(1);
    expect(result.errors).toMatch(/cannot read the public key .*nope\.pem/);
  });
});

describe("rawrxd audit query", () => {
  it("filters by type and key and prints JSON lines", async () => {
    const result = await run(
      "query",
      "--type",
      "inference",
      "--type",
      "authentication",
      "--key",
      "rxd_alice",
    );
    expect(result.code).toBe(0);
    const lines = result.output.trimEnd().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as { requestId: string }).requestId)).toEqual(["req-7"]);
  });

  it("prints CSV for a time span back from now", async () => {
    const result = await run("query", "--since", "30s", "--format", "csv");
    expect(result.code).toBe(0);
    expect(result.output.split("\r\n")[0]).toMatch(/^seq,time,node,type,/);
    expect(result.output.trimEnd().split("\r\n")).toHaveLength(3);
  });

  it("rejects an unknown type with a usage error", async () => {
    const result = await run("query", "--type", "everything");
    expect(result.code).toBe(2);
    expect(result.errors).toMatch(/--type must be one of authentication, inference/);
  });
});
