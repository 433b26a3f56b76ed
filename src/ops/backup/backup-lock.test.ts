import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireBackupLock, lockPath } from "./backup-lock.js";

describe("backup lock", () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), "rawrxd-backup-lock-"));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it("of many takers at once, exactly one holds it; the others name the holder", async () => {
    for (let round = 0; round < 20; round++) {
      const takers = Array.from({ length: 8 }, (_, index) =>
        acquireBackupLock(folder, {
          pid: process.pid,
          backupId: `backup-${round}-${index}`,
          startedAtMs: 0,
          purpose: "backup",
        }),
      );
      const results = await Promise.allSettled(takers);
      const held = results.filter((result) => result.status === "fulfilled");
      expect(held, `round ${round}`).toHaveLength(1);
      for (const result of results)
        if (result.status === "rejected")
          expect(String(result.reason)).toMatch(/Another backup operation \(backup backup-\d+-\d+, pid \d+/);
      const holder = JSON.parse(readFileSync(lockPath(folder), "utf8")) as { backupId: string };
      expect(holder.backupId).toMatch(new RegExp(`^backup-${round}-`));
      await held[0]!.value.release();
    }
  });

  it("a killed backup's lock, taken by many at once: exactly one holds it, and nothing is left aside", async () => {
    // A pid that has ended: a child that ran and exited.
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(
      lockPath(folder),
      JSON.stringify({ pid: deadPid, backupId: "killed", startedAtMs: 0, purpose: "backup" }),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, index) =>
        acquireBackupLock(folder, {
          pid: process.pid,
          backupId: `taker-${index}`,
          startedAtMs: 0,
          purpose: "backup",
        }),
      ),
    );
    const held = results.filter((result) => result.status === "fulfilled");
    expect(held).toHaveLength(1);
    for (const result of results)
      if (result.status === "rejected")
        expect(String(result.reason)).toMatch(/Another backup operation \(backup taker-\d+, pid \d+/);
    expect(JSON.parse(readFileSync(lockPath(folder), "utf8"))).toMatchObject({
      backupId: expect.stringMatching(/^taker-/),
    });
    expect(readdirSync(folder)).toEqual([".lock"]);
    await held[0]!.value.release();
  });
});
