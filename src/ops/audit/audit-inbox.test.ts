import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFixture, readLines, segmentPaths, type AuditFixture } from "./audit-fixture.testing.js";
import { AuditInbox, inboxDirectory, writeInboxFile } from "./audit-inbox.js";
import type { AuditLog } from "./audit-log.js";
import { parseRecordLine, type AuditRecord } from "./audit-record.js";
import type { CliAuditRequest } from "./cli-entries.js";
import { recordFromCli, type CliRecordOutcome } from "./cli-record.js";
import { lockFileName } from "./writer-lock.js";

let fixture: AuditFixture;
afterEach(() => fixture.cleanup());

const actor = { osUser: "alice", pid: 4242 };
const created: CliAuditRequest = {
  type: "authentication",
  action: "key-created",
  object: "0123456789ab",
  details: { name: "ci", role: "user", maxPriority: "normal" },
};
const revoked: CliAuditRequest = {
  type: "authentication",
  action: "key-revoked",
  object: "0123456789ab",
  details: { name: "ci" },
};

async function records(): Promise<AuditRecord[]> {
  return (await segmentPaths(fixture)).flatMap((path) =>
    readLines(path).map((line) => parseRecordLine(line)!),
  );
}

async function serverWithInbox(): Promise<{ log: AuditLog; inbox: AuditInbox }> {
  const log = await fixture.open({ witnessDirectory: undefined });
  const inbox = await AuditInbox.start({ auditDirectory: fixture.directory, log, time: fixture.time });
  return { log, inbox };
}

function inboxFile(name: string, content: string): string {
  const directory = inboxDirectory(fixture.directory);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, name), content);
  return join(directory, name);
}

describe("the audit inbox (server side)", () => {
  it("ingests leftovers at start in file order, with key id cli, then deletes each file", async () => {
    fixture = createFixture();
    mkdirSync(fixture.directory, { recursive: true });
    await writeInboxFile(fixture.directory, { request: created, actor }, fixture.time);
    fixture.time.advance(1);
    await writeInboxFile(fixture.directory, { request: revoked, actor }, fixture.time);
    expect(statSync(inboxDirectory(fixture.directory)).mode & 0o777).toBe(0o700);
    const { log, inbox } = await serverWithInbox();
    await inbox.close();
    await log.close();
    const taken = await records();
    expect(taken.map((record) => record.action)).toEqual(["key-created", "key-revoked"]);
    expect(taken[0]).toMatchObject({ type: "authentication", keyId: "cli", object: "0123456789ab" });
    expect(taken[0]!.details).toMatchObject({ osUser: "alice", pid: 4242, via: "inbox", role: "user" });
    expect(readdirSync(inboxDirectory(fixture.directory))).toEqual([]);
  });

  it("keeps the order of many files written in the same millisecond", async () => {
    fixture = createFixture();
    mkdirSync(fixture.directory, { recursive: true });
    for (let index = 0; index < 12; index += 1)
      await writeInboxFile(
        fixture.directory,
        { request: { ...revoked, details: { name: `key-${index}` } }, actor },
        fixture.time,
      );
    const { log, inbox } = await serverWithInbox();
    await inbox.close();
    await log.close();
    expect((await records()).map((record) => record.details["name"])).toEqual(
      Array.from({ length: 12 }, (_, index) => `key-${index}`),
    );
  });

  it("takes a file written while it runs at the next poll", async () => {
    fixture = createFixture();
    const { log, inbox } = await serverWithInbox();
    const path = await writeInboxFile(fixture.directory, { request: created, actor }, fixture.time);
    await fixture.time.advanceAsync(1000);
    await inbox.drain();
    expect(existsSync(path)).toBe(false);
    await inbox.close();
    await log.close();
    expect((await records()).map((record) => record.action)).toEqual(["key-created"]);
  });

  it.each([
    ["another type", { type: "system", action: "start", object: "x", details: {} }, /request/],
    ["an extra field", { ...created, keyId: "config-1" }, /request/],
    ["an extra detail", { ...revoked, details: { name: "ci", role: "admin" } }, /request/],
  ])(
    "refuses %s: renamed .rejected, and an inbox-rejected record with its hash",
    async (_, request, reason) => {
      fixture = createFixture();
      const path = inboxFile("000000000000001-1-1.json", JSON.stringify({ version: 1, request, actor }));
      const { log, inbox } = await serverWithInbox();
      await inbox.close();
      await log.close();
      expect(existsSync(`${path}.rejected`)).toBe(true);
      const [record] = await records();
      expect(record).toMatchObject({ type: "system", action: "inbox-rejected", outcome: "denied" });
      expect(String(record!.details["reason"])).toMatch(reason);
      expect(record!.details["sha256"]).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it("refuses text that is not JSON, and a link", async () => {
    fixture = createFixture();
    inboxFile("000000000000001-1-1.json", "{ not json");
    symlinkSync("/etc/hostname", join(inboxDirectory(fixture.directory), "000000000000002-1-1.json"));
    const { log, inbox } = await serverWithInbox();
    await inbox.close();
    await log.close();
    expect((await records()).map((record) => record.details["reason"])).toEqual([
      "not JSON",
      "not a plain file",
    ]);
  });
});

describe("recordFromCli", () => {
  const paths = (): { directory: string; privateKey: string; publicKey: string } => ({
    directory: fixture.directory,
    privateKey: join(fixture.root, "audit-key", "ed25519.pem"),
    publicKey: join(fixture.root, "audit-key", "ed25519.pem.pub"),
  });

  /** Runs the CLI side while driving the fake clock, as the real one would run. */
  async function drive(outcome: Promise<CliRecordOutcome>): Promise<CliRecordOutcome> {
    let settled: CliRecordOutcome | undefined;
    void outcome.then((value) => (settled = value));
    // Real file I/O runs between the fake clock's steps (an fs call yields to the I/O loop).
    for (let step = 0; settled === undefined && step < 2000; step += 1) {
      await stat(fixture.root);
      await fixture.time.advanceAsync(10);
    }
    return outcome;
  }

  it("appends directly and releases the lock when no server holds the log", async () => {
    fixture = createFixture();
    const outcome = await recordFromCli(created, { paths: paths(), time: fixture.time });
    expect(outcome).toEqual({ via: "direct", seq: 1 });
    expect(existsSync(join(fixture.directory, lockFileName))).toBe(false);
    const [record] = await records();
    expect(record).toMatchObject({ keyId: "cli", action: "key-created" });
    expect(record!.details).toMatchObject({ via: "direct", pid: process.pid });
    expect(typeof record!.details["osUser"]).toBe("string");
  });

  it("hands the record to the server that holds the log, and waits until it is on record", async () => {
    fixture = createFixture();
    const { log, inbox } = await serverWithInbox();
    const outcome = await drive(recordFromCli(revoked, { paths: paths(), time: fixture.time }));
    expect(outcome).toMatchObject({ via: "inbox", status: "ingested", holderPid: process.pid });
    await inbox.close();
    await log.close();
    expect((await records()).map((record) => record.action)).toEqual(["key-revoked"]);
  });

  it("says the server did not take it in time; the next server start ingests it", async () => {
    fixture = createFixture();
    const held = await fixture.open({ witnessDirectory: undefined });
    const outcome = await drive(
      recordFromCli(created, { paths: paths(), time: fixture.time, ingestTimeoutMs: 1000 }),
    );
    expect(outcome).toMatchObject({ via: "inbox", status: "pending" });
    await held.close();
    const { log, inbox } = await serverWithInbox();
    await inbox.close();
    await log.close();
    expect((await records()).map((record) => record.action)).toEqual(["key-created"]);
  });
});
