import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFixture, segmentPaths, readLines, type AuditFixture } from "./audit-fixture.testing.js";
import { parseRecordLine, type AuditRecord } from "./audit-record.js";
import { AuditLockedError, acquireWriterLock, lockFileName, processStartTicks } from "./writer-lock.js";

let fixture: AuditFixture;
afterEach(() => fixture.cleanup());

async function records(): Promise<AuditRecord[]> {
  return (await segmentPaths(fixture)).flatMap((path) =>
    readLines(path).map((line) => parseRecordLine(line)!),
  );
}

function writeLock(holder: Record<string, unknown>): void {
  mkdirSync(fixture.directory, { recursive: true });
  writeFileSync(join(fixture.directory, lockFileName), JSON.stringify(holder) + "\n");
}

/** The pid of a process that has already ended. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ["-e", ""]);
  return result.pid;
}

describe("one writer per audit folder", () => {
  it("refuses a second open in the same process, naming the holder, until the first closes", async () => {
    fixture = createFixture();
    const first = await fixture.open();
    const lock = JSON.parse(readFileSync(join(fixture.directory, lockFileName), "utf8")) as { pid: number };
    expect(lock.pid).toBe(process.pid);
    const error = await fixture.open().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuditLockedError);
    expect((error as Error).message).toContain(`server pid ${process.pid}`);
    await first.close();
    expect(existsSync(join(fixture.directory, lockFileName))).toBe(false);
    const second = await fixture.open();
    await second.record({ type: "system", action: "start" });
    await second.close();
    expect((await records()).map((record) => record.action)).toEqual(["start"]);
  });

  it("refuses while a child process writes; takes over once it is killed", async () => {
    fixture = createFixture();
    const keyPath = join(fixture.root, "keys", "audit-signing.pem");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "audit-writer-child.testing.ts"),
        fixture.directory,
        keyPath,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    });
    const error = await fixture.open().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuditLockedError);
    expect((error as AuditLockedError).holder.pid).toBe(child.pid);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));
    fixture.time.setWall(Date.parse("2100-01-01T00:00:00Z"));
    const log = await fixture.open();
    await log.close();
    const takeover = (await records()).find((record) => record.action === "writer-lock-taken-over");
    expect(takeover).toMatchObject({ type: "system", level: "warning" });
    expect(takeover?.details).toMatchObject({ stalePid: child.pid, staleKind: "server" });
  }, 30_000);

  it("takes over a stale lock left by a dead process, with a record saying so", async () => {
    fixture = createFixture();
    const pid = deadPid();
    writeLock({ pid, startTicks: null, host: hostname(), kind: "cli", since: "2026-01-01T00:00:00.000Z" });
    const log = await fixture.open();
    await log.close();
    const [takeover] = await records();
    expect(takeover).toMatchObject({ seq: 1, action: "writer-lock-taken-over", object: "audit/.lock" });
    expect(takeover!.details).toEqual({
      stalePid: pid,
      staleKind: "cli",
      staleHost: hostname(),
      staleSince: "2026-01-01T00:00:00.000Z",
    });
  });

  it("tells a reused pid from its holder by the process start time (Linux)", async () => {
    fixture = createFixture();
    if (processStartTicks(process.pid) === null) return;
    writeLock({ pid: process.pid, startTicks: "1", host: hostname(), kind: "server", since: "?" });
    const log = await fixture.open();
    await log.close();
    expect((await records())[0]!.action).toBe("writer-lock-taken-over");
  });

  it("counts another host's lock as held, and an unreadable lock as stale", async () => {
    fixture = createFixture();
    writeLock({ pid: 1, startTicks: null, host: "elsewhere", kind: "server", since: "?" });
    await expect(fixture.open()).rejects.toThrow(/server pid 1 on elsewhere/);
    writeFileSync(join(fixture.directory, lockFileName), "not json");
    const log = await fixture.open();
    await log.close();
    expect((await records())[0]!.details).toMatchObject({ stalePid: 0 });
  });

  it("waits up to waitForCliMs while a CLI writer holds the lock, but not for a server", async () => {
    fixture = createFixture();
    mkdirSync(fixture.directory, { recursive: true });
    const cli = await acquireWriterLock(fixture.directory, { kind: "cli", time: fixture.time });
    await expect(fixture.open()).rejects.toThrow(/held by another writer: cli pid/);
    let opened = false;
    const opening = fixture.open({ waitForCliMs: 1000 }).then((log) => {
      opened = true;
      return log;
    });
    // Real file I/O runs between the fake clock's steps (an fs call yields to the I/O loop).
    const step = async (): Promise<void> => {
      await stat(fixture.root);
      await fixture.time.advanceAsync(10);
    };
    for (let index = 0; index < 20; index += 1) await step();
    expect(opened).toBe(false);
    await cli.release();
    for (let index = 0; index < 500 && !opened; index += 1) await step();
    const log = await opening;
    await log.close();
    const server = await fixture.open();
    await expect(
      acquireWriterLock(fixture.directory, { kind: "cli", time: fixture.time, waitForCliMs: 1000 }),
    ).rejects.toThrow(/held by another writer: server pid/);
    await server.close();
  });
});
