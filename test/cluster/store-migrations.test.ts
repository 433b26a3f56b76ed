/**
 * One migration list for both databases (issue #18 item 4, docs/decisions/0038): applied to an
 * empty PostgreSQL, again (nothing to do), by two nodes at once (each step once), and the same
 * versions recorded in a node's SQLite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/index.js";
import {
  applyPostgresMigrations,
  Database,
  migrations,
  openPostgresPool,
  postgresVersions,
  replicatedTables,
} from "../../src/store/index.js";
import { StoreFixture } from "./store.testing.js";

const fixture = new StoreFixture();
beforeAll(() => fixture.start());
afterEach(() => fixture.cleanup());
afterAll(() => fixture.dispose());

const allVersions = migrations.map((migration) => migration.version);

function pool(url: string) {
  const opened = openPostgresPool(url, silentLogger);
  fixture.cleanups.push(() => opened.end());
  return opened;
}

describe("migrations on PostgreSQL and SQLite", () => {
  it("run on an empty PostgreSQL database, and a second run does nothing", async () => {
    const url = fixture.database("migrate_twice");
    const shared = pool(url);
    expect(await applyPostgresMigrations(shared)).toEqual(allVersions);
    expect(await applyPostgresMigrations(shared)).toEqual([]);
    expect(await postgresVersions(shared)).toEqual(allVersions);
    // Every replicated table has its columns there, behind the node id.
    for (const table of replicatedTables) {
      const columns = (
        await shared.query<{ column_name: string }>(
          "SELECT column_name FROM information_schema.columns WHERE table_name = $1",
          [table.name],
        )
      ).rows.map((row) => row.column_name);
      expect(columns.sort()).toEqual(["node_id", ...table.columns].sort());
    }
  });

  it("two nodes migrating at once apply each migration once", async () => {
    const url = fixture.database("migrate_race");
    const [first, second] = await Promise.all([
      applyPostgresMigrations(pool(url)),
      applyPostgresMigrations(pool(url)),
    ]);
    expect([...first, ...second].sort((a, b) => a - b)).toEqual(allVersions);
    expect(await postgresVersions(pool(url))).toEqual(allVersions);
  });

  it("SQLite records the same versions, and reopening applies nothing new", () => {
    const home = mkdtempSync(join(tmpdir(), "rawrxd-store-migrations-"));
    fixture.cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const path = join(home, "rawrxd.db");
    const first = Database.open({ path });
    expect(first.appliedVersions()).toEqual(allVersions);
    first.close();
    const again = Database.open({ path });
    expect(again.appliedVersions()).toEqual(allVersions);
    again.close();
  });

  it("refuses a PostgreSQL store migrated by a newer RawrXD", async () => {
    const url = fixture.database("migrate_newer");
    const shared = pool(url);
    await applyPostgresMigrations(shared);
    await shared.query(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')",
    );
    await expect(applyPostgresMigrations(shared)).rejects.toThrow(
      /schema version 999, newer than this RawrXD/,
    );
  });
});
