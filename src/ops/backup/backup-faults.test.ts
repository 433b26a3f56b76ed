import { spawn } from "node:child_process";
import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventBus, type ServerEvents } from "../../core/index.js";
import { createDataFolder, imageOfFolder, imageOfLive, type DataFolder } from "./backup-fixture.testing.js";
import type { BackupManager } from "./backup-manager.js";
import { writeFileDurably } from "./chunk-store.js";
import { signManifest, type SignedManifest } from "./manifest.js";

let folder: DataFolder;
let manager: BackupManager;
let ids: { full: string; first: string; second: string; differential: string };

beforeEach(async () => {
  folder = await createDataFolder();
  manager = await folder.manager();
  await folder.change(50, "base");
  const full = await manager.create("full");
  await folder.change(10, "one");
  const first = await manager.create("incremental");
  await folder.change(10, "two");
  const second = await manager.create("incremental");
  const differential = await manager.create("differential");
  ids = { full: full.id, first: first.id, second: second.id, differential: differential.id };
});
afterEach(async () => {
  await folder.close();
});

function manifestFile(id: string): string {
  return join(folder.backupDir, "manifests", `${id}.json`);
}

function readSigned(id: string): SignedManifest {
  return JSON.parse(readFileSync(manifestFile(id), "utf8")) as SignedManifest;
}

/** A chunk only the second incremental (and the differential after it) hold: its config.json. */
function chunkOfSecondConfig(): string {
  const file = readSigned(ids.second).manifest.files.find((entry) => entry.path === "config.json")!;
  return file.chunks![0]!;
}

function chunkPath(id: string): string {
  return join(folder.backupDir, "chunks", id.slice(0, 2), id);
}

describe("faults", () => {
  it("a corrupted chunk: --read-data names it, its backup and the restore points it breaks", async () => {
    const chunk = chunkOfSecondConfig();
    writeFileSync(chunkPath(chunk), "not the data");
    expect((await manager.verify()).ok).toBe(true);
    const report = await manager.verify({ readData: true });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: "corrupt-chunk",
        chunk,
        file: "config.json",
        backupId: ids.second,
        breaks: [ids.second, ids.differential],
      }),
    ]);
    expect(report.points.filter((point) => point.ok).map((point) => point.id)).toEqual([ids.full, ids.first]);
    const target = join(folder.root, "restore-bad");
    await expect(manager.restore(ids.second, { to: target })).rejects.toThrow(/does not match its SHA-256/);
    expect(existsSync(target)).toBe(false);
    await manager.restore(ids.first, { to: join(folder.root, "restore-good") });
  });

  it("a missing chunk breaks exactly the points that use it", async () => {
    const chunk = chunkOfSecondConfig();
    unlinkSync(chunkPath(chunk));
    const report = await manager.verify();
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: "missing-chunk",
        chunk,
        backupId: ids.second,
        breaks: [ids.second, ids.differential],
      }),
    ]);
    await expect(manager.restore(ids.differential, { to: join(folder.root, "r") })).rejects.toThrow(
      `chunk ${chunk}`,
    );
  });

  it("an altered manifest fails its signature; its dependents cannot be restored", async () => {
    const signed = readSigned(ids.first);
    signed.manifest.files[0]!.size += 1;
    writeFileSync(manifestFile(ids.first), JSON.stringify(signed));
    const report = await manager.verify();
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: "bad-signature",
        backupId: ids.first,
        breaks: [ids.first, ids.second],
      }),
    ]);
    expect(report.points.filter((point) => point.ok).map((point) => point.id)).toEqual([
      ids.full,
      ids.differential,
    ]);
    expect((await manager.list()).find((entry) => entry.id === ids.first)?.status).toBe("bad-signature");
    await expect(manager.restore(ids.second, { to: join(folder.root, "r") })).rejects.toThrow(/signature/);
  });

  it("a manifest re-signed with another key is a forgery", async () => {
    const signed = readSigned(ids.full);
    const forged = signManifest(signed.manifest, { secret: randomBytes(32), keyId: signed.signature.keyId });
    writeFileSync(manifestFile(ids.full), JSON.stringify(forged));
    const report = await manager.verify();
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: "bad-signature", backupId: ids.full });
    expect(report.problems[0]!.breaks).toEqual([ids.full, ids.first, ids.second, ids.differential]);
  });

  it("a broken chain (an incremental's parent is gone) is reported; the others still restore", async () => {
    unlinkSync(manifestFile(ids.first));
    const report = await manager.verify();
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: "missing-manifest", backupId: ids.first, breaks: [ids.second] }),
    ]);
    expect(report.problems[0]!.message).toContain(`parent of incremental ${ids.second}`);
    await manager.restore(ids.differential, { to: join(folder.root, "r") });
  });

  it("a full disk fails the backup cleanly: marked failed, no manifest, earlier points intact, live data untouched", async () => {
    let writes = 0;
    const events = new EventBus();
    const ends: ServerEvents["backup-end"][] = [];
    events.on("backup-end", (event) => ends.push(event));
    const full = await folder.manager({
      events,
      chunkWriter: async (path, data) => {
        writes += 1;
        if (writes > 2)
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        await writeFileDurably(path, data);
      },
    });
    await folder.change(30, "three");
    await folder.audit.flush();
    const before = imageOfLive(folder);
    await expect(full.create("incremental")).rejects.toThrow(/backup folder .* is full \(ENOSPC\)/);
    expect(imageOfLive(folder)).toEqual(before);
    const list = await manager.list();
    expect(list.at(-1)).toMatchObject({
      kind: "incremental",
      status: "failed",
      reason: expect.stringMatching(/ENOSPC/),
    });
    expect(ends).toEqual([
      expect.objectContaining({
        id: list.at(-1)!.id,
        kind: "incremental",
        ok: false,
        error: expect.stringMatching(/ENOSPC/),
      }),
    ]);
    expect(existsSync(join(folder.backupDir, "tmp"))).toBe(false);
    expect((await manager.verify({ readData: true })).ok).toBe(true);
    // The next incremental builds on the last good backup, never on the failed one.
    const next = await manager.create("incremental");
    expect(next.parent).toBe(ids.differential);
    await manager.restore(next.id, { to: join(folder.root, "after") });
    expect(imageOfFolder(join(folder.root, "after"))).toEqual(imageOfLive(folder));
  });

  it("two backups at once: the second refuses, naming the first", async () => {
    const results = await Promise.allSettled([manager.create("incremental"), manager.create("incremental")]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((result) => result.status === "rejected");
    expect(String(rejected?.reason)).toMatch(
      /Another backup operation \(backup .*-incremental-.*, pid \d+.*\) holds the backup folder/,
    );
  });

  it("a backup killed mid-way leaves no manifest; the next one marks it failed and prune removes its chunks", async () => {
    const keyFile = join(folder.root, "keys", "backup-signing.key");
    await folder.change(40, "killed");
    await folder.audit.flush();
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "backup-child.testing.ts"),
        folder.home,
        folder.backupDir,
        keyFile,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (data: Buffer) => {
        if (data.toString().includes("stalled")) resolve();
      });
      child.on("exit", (code) =>
        reject(new Error(`backup child exited (${code}) before stalling: ${stderr}`)),
      );
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));
    expect(existsSync(join(folder.backupDir, ".lock"))).toBe(true);
    expect((await manager.list()).map((entry) => entry.id)).toEqual([
      ids.full,
      ids.first,
      ids.second,
      ids.differential,
    ]);
    expect((await manager.verify({ readData: true })).ok).toBe(true);

    const pruned = await manager.prune({ keepWithinMs: 30 * 86_400_000, keepDaily: 30 });
    expect(pruned.deleted).toEqual([]);
    expect(pruned.chunksDeleted).toBe(3);
    expect((await manager.list()).find((entry) => entry.status === "failed")?.reason).toMatch(
      /ended before the backup finished/,
    );
    expect((await manager.verify({ readData: true })).ok).toBe(true);
    const next = await manager.create("incremental");
    expect(next.parent).toBe(ids.differential);
  });
});
