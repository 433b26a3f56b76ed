/**
 * Issue #15 §2: the disk fills up during a backup. The backup fails with an error naming the
 * backup folder and the bytes it still needed, nothing partial joins the catalogue as a restore
 * point, the data folder is untouched, and once space returns the next backup works. Once with
 * an injected chunk writer (everywhere), once on a real 1 MiB tmpfs (where mounting is allowed).
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/core/index.js";
import {
  createDataFolder,
  imageOfFolder,
  imageOfLive,
  type DataFolder,
  type DataImage,
} from "../../src/ops/backup/backup-fixture.testing.js";
import { writeFileDurably } from "../../src/ops/backup/chunk-store.js";
import type { BackupManager } from "../../src/ops/index.js";
import { mountSmallDisk, whyNoSmallDisk, type SmallDisk } from "./small-disk.testing.js";

let folder: DataFolder;

beforeEach(async () => {
  folder = await createDataFolder();
  await folder.change(20, "base");
});
afterEach(async () => folder.close());

/** One hash of a data image: deep equality over megabytes of row blobs is slow. */
function digestOf(image: DataImage): string {
  return createHash("sha256").update(JSON.stringify(image)).digest("hex");
}

/** The failed backup's error, checked for what an operator needs to act on it. */
async function expectDiskFull(attempt: Promise<unknown>): Promise<{ id: string; error: AppError }> {
  const error = await attempt.then(
    () => expect.fail("the backup should have failed on a full disk"),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code, appError.message).toBe("insufficient-storage");
  expect(appError.message).toContain(`the disk holding the backup folder ${folder.backupDir} is full`);
  expect(appError.message).toMatch(
    /(It needs up to|Its database snapshot alone needs about) [\d.]+ [KMG]?i?B \(\d+ bytes\)/,
  );
  expect(appError.message).toMatch(/Earlier backups are untouched/);
  return { id: /^Backup (\S+) /.exec(appError.message)![1]!, error: appError };
}

/** Nothing of the failed backup is a restore point; no temporary file is left in the catalogue. */
async function expectNotARestorePoint(manager: BackupManager, id: string): Promise<void> {
  const list = await manager.list();
  expect(list.filter((entry) => entry.id === id && entry.status !== "failed")).toEqual([]);
  const manifests = join(folder.backupDir, "manifests");
  if (existsSync(manifests))
    expect(readdirSync(manifests).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  expect(existsSync(join(folder.backupDir, "tmp"))).toBe(false);
}

async function expectBackupWorks(manager: BackupManager, kind: "full" | "incremental"): Promise<void> {
  const manifest = await manager.create(kind);
  expect((await manager.verify({ readData: true })).ok).toBe(true);
  const target = join(folder.root, `restored-${manifest.id}`);
  await manager.restore(manifest.id, { to: target });
  expect(digestOf(imageOfFolder(target))).toBe(digestOf(imageOfLive(folder)));
}

describe("disk full during a backup", () => {
  it("injected ENOSPC mid-way: a clear error with the bytes needed, no restore point, source untouched; next backup works", async () => {
    const manager = await folder.manager();
    await manager.create("full");
    await folder.change(30, "more");
    await folder.audit.flush();
    let writes = 0;
    const filling = await folder.manager({
      chunkWriter: async (path, data) => {
        writes += 1;
        if (writes > 3)
          throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), {
            code: "ENOSPC",
          });
        await writeFileDurably(path, data);
      },
    });
    const before = imageOfLive(folder);
    const { id, error } = await expectDiskFull(filling.create("incremental"));
    expect(error.message).toMatch(/It needs up to .* \(\d+ bytes\) more/);
    expect(imageOfLive(folder)).toEqual(before);
    await expectNotARestorePoint(manager, id);
    await expectBackupWorks(manager, "incremental");
  });

  const noSmallDisk = whyNoSmallDisk();
  it.skipIf(noSmallDisk !== undefined)(
    `real ENOSPC on a 1 MiB tmpfs backup folder; space returns and the next backup works${noSmallDisk === undefined ? "" : ` (skipped: ${noSmallDisk})`}`,
    async () => {
      // 3 MiB of incompressible rows: more than the backup folder's disk holds.
      const insert = folder.database.connection.prepare("INSERT INTO notes (body, payload) VALUES (?, ?)");
      folder.database.connection.transaction(() => {
        for (let index = 0; index < 750; index += 1) insert.run(`blob ${index}`, randomBytes(4096));
      })();
      await folder.audit.flush();
      let disk: SmallDisk | undefined;
      try {
        disk = mountSmallDisk(folder.backupDir, 1024 * 1024);
        // Chunks of ordinary size: the fixture's tiny ones would make thousands of files.
        const manager = await folder.manager({
          chunker: { minBytes: 16 * 1024, averageBytes: 64 * 1024, maxBytes: 256 * 1024 },
        });
        const before = digestOf(imageOfLive(folder));
        const { id } = await expectDiskFull(manager.create("full"));
        expect(digestOf(imageOfLive(folder))).toBe(before);
        expect(folder.database.connection.pragma("integrity_check", { simple: true })).toBe("ok");
        await expectNotARestorePoint(manager, id);
        disk.resize(64 * 1024 * 1024);
        await expectBackupWorks(manager, "full");
      } finally {
        disk?.unmount();
      }
    },
  );
});
