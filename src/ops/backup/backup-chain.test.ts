import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createDataFolder,
  imageOfFolder,
  imageOfLive,
  type DataFolder,
  type DataImage,
} from "./backup-fixture.testing.js";
import type { BackupKind } from "./manifest.js";

let folder: DataFolder;
beforeEach(async () => {
  folder = await createDataFolder();
});
afterEach(async () => {
  await folder.close();
});

describe("full → incremental → incremental → differential", () => {
  it("every restore point comes back byte-identical, with the audit log verified", async () => {
    const manager = await folder.manager();
    const points: { id: string; kind: BackupKind; image: DataImage }[] = [];
    const steps: BackupKind[] = ["full", "incremental", "incremental", "differential"];
    await folder.change(400, "bulk");
    for (const [index, kind] of steps.entries()) {
      await folder.change(20 + index * 5, `step-${index}`);
      folder.time.advance(15 * 60_000);
      await folder.audit.flush();
      const image = imageOfLive(folder);
      const manifest = await manager.create(kind);
      points.push({ id: manifest.id, kind, image });
    }
    const list = await manager.list();
    expect(list.map((entry) => [entry.kind, entry.status])).toEqual(steps.map((kind) => [kind, "complete"]));
    expect(list[1]!.parent).toBe(list[0]!.id);
    expect(list[2]!.parent).toBe(list[1]!.id);
    expect(list[3]!.parent).toBe(list[0]!.id);
    // An incremental stores only what changed: far less than the full.
    expect(list[1]!.storedBytes!).toBeLessThan(list[0]!.storedBytes! / 2);

    const report = await manager.verify({ readData: true });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.points.find((point) => point.id === points[2]!.id)?.chain).toEqual(
      points.slice(0, 3).map((point) => point.id),
    );
    expect(report.points.find((point) => point.id === points[3]!.id)?.chain).toEqual([
      points[0]!.id,
      points[3]!.id,
    ]);

    for (const [index, point] of points.entries()) {
      const target = join(folder.root, `restore-${index}`);
      const result = await manager.restore(point.id, { to: target });
      expect(result.databaseIntegrity).toBe("ok");
      expect(result.audit).toMatchObject({ intact: true });
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
      expect(imageOfFolder(target)).toEqual(point.image);
    }
    // Sealed audit segments stay read-only after a restore.
    const sealed = Object.keys(points[0]!.image.files).find((name) => name.startsWith("audit/segment-"))!;
    expect(statSync(join(folder.root, "restore-0", sealed)).mode & 0o777).toBe(0o444);
  });

  it("an incremental lists unchanged files without chunks and a differential holds all changes since the full", async () => {
    const manager = await folder.manager();
    await folder.change(10, "a");
    const full = await manager.create("full");
    const untouched = await manager.create("incremental");
    expect(
      untouched.files.every(
        (file) => file.chunks === undefined || file.path === "rawrxd.db" || file.path.startsWith("audit/"),
      ),
    ).toBe(true);
    expect(untouched.files.find((file) => file.path === "config.json")?.chunks).toBeUndefined();
    await folder.change(10, "b");
    const incremental = await manager.create("incremental");
    expect(incremental.files.find((file) => file.path === "config.json")?.chunks).toBeDefined();
    const differential = await manager.create("differential");
    expect(differential.parent).toBe(full.id);
    expect(differential.files.find((file) => file.path === "config.json")?.chunks).toBeDefined();
  });

  it("restores in place once the server has stopped: the replaced data moves aside, the WAL with it", async () => {
    const manager = await folder.manager();
    await folder.change(20, "before");
    await folder.audit.flush();
    const image = imageOfLive(folder);
    const backup = await manager.create("full");
    await folder.change(20, "after");
    await folder.audit.close();
    folder.database.close();
    writeFileSync(join(folder.home, "rawrxd.db-wal"), "stale wal that must not meet the restored database");
    const result = await manager.restore(backup.id, { inPlace: true });
    expect(result.previousDataDir).toMatch(/\.before-restore-/);
    expect(existsSync(join(result.previousDataDir!, "rawrxd.db-wal"))).toBe(true);
    expect(imageOfFolder(folder.home)).toEqual(image);
    expect(existsSync(join(folder.home, "models", "tiny.gguf"))).toBe(true);
    expect((await manager.list()).map((entry) => entry.id)).toEqual([backup.id]);
  });

  it("a restore into a folder that is not empty is refused", async () => {
    const manager = await folder.manager();
    const backup = await manager.create("full");
    await expect(manager.restore(backup.id, { to: folder.home })).rejects.toThrow(/is not empty/);
  });

  it("an incremental or differential without a full refuses clearly", async () => {
    const manager = await folder.manager();
    await expect(manager.create("incremental")).rejects.toThrow(/create a full backup first/);
    await expect(manager.create("differential")).rejects.toThrow(/no full backup/);
  });
});

describe("options", () => {
  it("encrypts chunks at rest with a key file and restores with it", async () => {
    const keyFile = join(folder.root, "keys", "backup-encryption.key");
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, randomBytes(32).toString("hex") + "\n");
    const manager = await folder.manager({ encryptionKeyFile: keyFile });
    await folder.change(10, "secret-config-value");
    await folder.audit.flush();
    const image = imageOfLive(folder);
    const backup = await manager.create("full");
    expect(backup.isEncrypted).toBe(true);
    const chunkFiles = readdirSync(join(folder.backupDir, "chunks"), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(entry.parentPath, entry.name)));
    expect(chunkFiles.some((body) => body.includes("secret-config-value"))).toBe(false);
    await manager.restore(backup.id, { to: join(folder.root, "restored") });
    expect(imageOfFolder(join(folder.root, "restored"))).toEqual(image);
    const withoutKey = await folder.manager();
    await expect(withoutKey.restore(backup.id, { to: join(folder.root, "no-key") })).rejects.toThrow(
      /does not match/,
    );
  });

  it("with models included, a model file is stored once across backups", async () => {
    const manager = await folder.manager({ includeModels: true });
    const full = await manager.create("full");
    expect(full.files.map((file) => file.path)).toContain("models/tiny.gguf");
    expect(full.storedBytes).toBeGreaterThan(10_000);
    const again = await manager.create("full");
    expect(again.files.find((file) => file.path === "models/tiny.gguf")?.chunks).toEqual(
      full.files.find((file) => file.path === "models/tiny.gguf")?.chunks,
    );
    expect(again.storedBytes).toBeLessThan(10_000);
    await expect(manager.verify({ ids: ["nope"] })).rejects.toThrow(/There is no backup nope/);
  });
});
