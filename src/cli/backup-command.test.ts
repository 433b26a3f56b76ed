import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Database } from "../store/index.js";
import { main } from "./index.js";
import { createRecordingIo } from "./test-io.testing.js";

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "rawrxd-backup-cli-"));
  const database = Database.open({ path: join(home, "rawrxd.db") });
  database.close();
  writeFileSync(join(home, "config.json"), JSON.stringify({ port: 0 }));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; output: string; errors: string }> {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home } });
  const code = await main(["backup", ...args], io);
  return { code, output: io.output(), errors: io.errors() };
}

describe("rawrxd backup", () => {
  it("rejects a bad command line with usage errors (exit 2)", async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli(["nap"])).errors).toMatch(
      /Unknown action "nap"; use create, list, verify, restore or prune/,
    );
    expect((await cli(["create", "--kind", "weekly"])).errors).toMatch(
      /--kind must be one of full, incremental, differential/,
    );
    expect((await cli(["restore", "x"])).errors).toMatch(/exactly one of --to DIR or --in-place/);
    expect((await cli(["list", "extra"])).code).toBe(2);
  });

  it("says what to do before there is a signing key, or a full", async () => {
    const listed = await cli(["list"]);
    expect(listed.code).toBe(1);
    expect(listed.errors).toMatch(/signing key .* does not exist/);
    const incremental = await cli(["create"]);
    expect(incremental.code).toBe(1);
    expect(incremental.errors).toMatch(/create a full backup first/);
  });

  it("creates, lists, verifies, restores and prunes", async () => {
    const created = await cli(["create", "--kind", "full"]);
    expect(created.code, created.errors).toBe(0);
    const id = /full backup (\S+):/.exec(created.output)?.[1];
    expect(id).toBeDefined();
    const listed = await cli(["list"]);
    expect(listed.output).toMatch(new RegExp(`${id}\\s+full\\s+-\\s+\\S+\\s+\\S+.*signed`));
    expect((await cli(["verify", id!, "--read-data"])).output).toMatch(/^OK: 1 of 1 restore point/);
    expect((await cli(["list"])).output).toMatch(/signed\s+ok \d{4}-\d\d-\d\dT\d\d:\d\dZ \(data\)/);
    const unknown = await cli(["verify", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.errors).toMatch(/There is no backup nope/);
    const restored = await cli(["restore", id!, "--to", join(home, "..", `${id}-restored`)]);
    expect(restored.code, restored.errors).toBe(0);
    expect(restored.output).toMatch(/database integrity ok, audit log absent\.\nRestore took/);
    rmSync(join(home, "..", `${id}-restored`), { recursive: true, force: true });
    const pruned = await cli(["prune", "--dry-run"]);
    expect(pruned.output).toMatch(/^would delete 0 backup\(s\) and 0 chunk\(s\), 0 B; 1 kept/);
  });

  it("refuses while another backup holds the folder", async () => {
    expect((await cli(["create", "--kind", "full"])).code).toBe(0);
    mkdirSync(join(home, "backups"), { recursive: true });
    writeFileSync(
      join(home, "backups", ".lock"),
      JSON.stringify({
        pid: process.pid,
        backupId: "20261201T000000Z-full-abcdef",
        startedAtMs: 0,
        purpose: "backup",
      }),
    );
    const second = await cli(["create"]);
    expect(second.code).toBe(1);
    expect(second.errors).toMatch(/Another backup operation \(backup 20261201T000000Z-full-abcdef, pid \d+/);
  });
});
