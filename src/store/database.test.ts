import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Database, migrations, type Migration } from "./index.js";

const homes: string[] = [];
function tempPath(): string {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-store-"));
  homes.push(home);
  return join(home, "nested", "rawrxd.db");
}
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

const notes: Migration = {
  version: 1,
  name: "notes",
  up: (connection) => connection.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"),
};
const tags: Migration = {
  version: 2,
  name: "tags",
  up: (connection) => connection.exec("ALTER TABLE notes ADD COLUMN tag TEXT"),
};

describe("Database", () => {
  it("creates the file in WAL mode and applies every migration once", () => {
    const path = tempPath();
    const database = Database.open({ path });
    expect(database.connection.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(database.appliedVersions()).toEqual(migrations.map((migration) => migration.version));
    database.close();
    const again = Database.open({ path });
    expect(again.appliedVersions()).toEqual(migrations.map((migration) => migration.version));
    again.close();
  });

  it("applies only the new migrations on reopen and keeps the data", () => {
    const path = tempPath();
    const first = Database.open({ path, migrations: [notes] });
    first.connection.prepare("INSERT INTO notes (text) VALUES (?)").run("kept");
    first.close();
    const second = Database.open({ path, migrations: [notes, tags] });
    expect(second.appliedVersions()).toEqual([1, 2]);
    expect(second.connection.prepare("SELECT text, tag FROM notes").all()).toEqual([
      { text: "kept", tag: null },
    ]);
    second.close();
  });

  it("refuses gaps in the list and a database newer than the code", () => {
    expect(() => Database.open({ path: ":memory:", migrations: [tags] })).toThrow(
      /versions must run 1, 2, 3/,
    );
    const path = tempPath();
    Database.open({ path, migrations: [notes, tags] }).close();
    expect(() => Database.open({ path, migrations: [notes] })).toThrow(
      /schema version 2, newer than this RawrXD knows \(1\)/,
    );
  });

  it("rolls a failing migration back entirely", () => {
    const path = tempPath();
    const broken: Migration = {
      version: 2,
      name: "broken",
      up: (connection) => connection.exec("CREATE TABLE half (id INTEGER); SELECT * FROM missing_table"),
    };
    expect(() => Database.open({ path, migrations: [notes, broken] })).toThrow(/missing_table/);
    const database = Database.open({ path, migrations: [notes] });
    expect(database.appliedVersions()).toEqual([1]);
    expect(database.connection.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all()).toEqual(
      [],
    );
    database.close();
  });

  it("close is idempotent and use after close throws", () => {
    const database = Database.open({ path: ":memory:" });
    database.close();
    database.close();
    expect(() => database.connection).toThrow(/is closed/);
  });
});
