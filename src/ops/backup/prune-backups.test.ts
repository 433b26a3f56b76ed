import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDataFolder, type DataFolder } from "./backup-fixture.testing.js";
import type { BackupEntry } from "./catalog.js";
import type { BackupKind, BackupManifest } from "./manifest.js";
import { selectKept } from "./prune-backups.js";

const dayMs = 86_400_000;

function entry([id, kind, parent, createdAtMs]: [string, BackupKind, string | null, number]): BackupEntry {
  const manifest = { id, kind, parent, createdAtMs, sequence: 0, files: [] } as unknown as BackupManifest;
  return { id, kind, parent, createdAtMs, sequence: 0, status: "complete", manifest };
}

describe("selectKept", () => {
  it("keeps everything within the window, the newest per day for N days, and every chain they need", () => {
    const now = 100 * dayMs;
    const entries = [
      entry(["f1", "full", null, 10 * dayMs]),
      entry(["i1", "incremental", "f1", 10 * dayMs + 1000]),
      entry(["i2", "incremental", "i1", 11 * dayMs]),
      entry(["f2", "full", null, 50 * dayMs]),
      entry(["i3", "incremental", "f2", 50 * dayMs + 1000]),
      entry(["f3", "full", null, 80 * dayMs]),
      entry(["d3", "differential", "f3", 95 * dayMs]),
    ];
    // Within 30 days: f3 (day 80), d3 (day 95). Daily for the 3 newest days: d3 (95), f3 (80), i3 (50).
    expect([...selectKept(entries, { keepWithinMs: 30 * dayMs, keepDaily: 3 }, now)].sort()).toEqual(
      ["d3", "f2", "f3", "i3"].sort(),
    );
    // i2 as a daily point pulls in its whole chain.
    expect([...selectKept(entries, { keepWithinMs: 0, keepDaily: 5 }, now)].sort()).toEqual(
      ["d3", "f1", "f2", "f3", "i1", "i2", "i3"].sort(),
    );
  });
});

describe("prune", () => {
  let folder: DataFolder;
  beforeEach(async () => {
    folder = await createDataFolder();
  });
  afterEach(async () => {
    await folder.close();
  });

  it("deletes exactly the expired backups and the chunks only they used", async () => {
    const manager = await folder.manager();
    const events: unknown[] = [];
    await folder.change(30, "old");
    const oldFull = await manager.create("full");
    await folder.change(5, "old-2");
    const oldIncremental = await manager.create("incremental");
    folder.time.setWall(folder.time.wallNow() + 40 * dayMs);
    await folder.change(5, "new");
    const newFull = await manager.create("full");
    await folder.change(5, "new-2");
    const newIncremental = await manager.create("incremental");

    const dryRun = await manager.prune({ keepWithinMs: 30 * dayMs, keepDaily: 1 }, { dryRun: true });
    expect(dryRun.deleted).toEqual([oldFull.id, oldIncremental.id]);
    expect((await manager.list()).length).toBe(4);

    const result = await manager.prune({ keepWithinMs: 30 * dayMs, keepDaily: 1 });
    events.push(result);
    expect(result.deleted).toEqual([oldFull.id, oldIncremental.id]);
    expect(result.kept).toEqual([newFull.id, newIncremental.id]);
    expect(result.chunksDeleted).toBeGreaterThan(0);
    expect(result.bytesFreed).toBeGreaterThan(0);
    expect((await manager.list()).map((item) => item.id)).toEqual([newFull.id, newIncremental.id]);
    const report = await manager.verify({ readData: true });
    expect(report.ok).toBe(true);
    expect((await manager.prune({ keepWithinMs: 30 * dayMs, keepDaily: 1 })).chunksDeleted).toBe(0);
  });
});
