/**
 * A live data folder for backup tests: the real state database (WAL, left open with writes not
 * yet checkpointed), a real audit log (open, small segments so some are sealed), config.json,
 * the thread-calibration cache and the models manifest; plus what restored data is compared with.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { FakeTime } from "../../core/index.js";
import { Database } from "../../store/index.js";
import { AuditLog, auditPaths, loadOrCreateSigningKey, type AuditSigningKey } from "../audit/index.js";
import { BackupManager, type BackupManagerOptions } from "./backup-manager.js";

export const fixtureStartMs = Date.UTC(2026, 11, 1, 0, 0, 0);
/** Small chunks so test files span many of them. */
export const testChunker = { minBytes: 256, averageBytes: 1024, maxBytes: 4096 };

export interface DataFolder {
  root: string;
  home: string;
  backupDir: string;
  time: FakeTime;
  database: Database;
  audit: AuditLog;
  auditKey: AuditSigningKey;
  /** Inserts `count` rows, updates one and writes `count` audit records. */
  change(count: number, label: string): Promise<void>;
  manager(overrides?: Partial<BackupManagerOptions>): Promise<BackupManager>;
  close(): Promise<void>;
}

export async function createDataFolder(): Promise<DataFolder> {
  const root = mkdtempSync(join(tmpdir(), "rawrxd-backup-"));
  const home = join(root, "home");
  mkdirSync(join(home, "models"), { recursive: true });
  mkdirSync(join(home, "cache"), { recursive: true });
  const time = new FakeTime({ wallMs: fixtureStartMs });
  const database = Database.open({ path: join(home, "rawrxd.db") });
  database.connection.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, payload BLOB)");
  const paths = auditPaths(home);
  const auditKey = await loadOrCreateSigningKey(paths.privateKey);
  const audit = await AuditLog.open({
    directory: paths.directory,
    signingKey: auditKey,
    nodeId: "node-test",
    time,
    maxSegmentBytes: 4096,
    checkpointEveryRecords: 7,
  });
  writeFileSync(join(home, "config.json"), JSON.stringify({ port: 11435 }));
  writeFileSync(join(home, "cache", "threads.json"), JSON.stringify({ entries: {} }));
  writeFileSync(join(home, "models", ".rawrxd-manifest.json"), JSON.stringify({ files: {} }));
  writeFileSync(join(home, "models", "tiny.gguf"), Buffer.alloc(10_000, 7));
  let nextRow = 1;
  const folder: DataFolder = {
    root,
    home,
    backupDir: join(home, "backups"),
    time,
    database,
    audit,
    auditKey,
    async change(count, label) {
      const insert = database.connection.prepare("INSERT INTO notes (id, body, payload) VALUES (?, ?, ?)");
      for (let index = 0; index < count; index += 1) {
        insert.run(
          nextRow,
          `${label} row ${nextRow}`,
          createHash("sha256").update(`${label}${nextRow}`).digest(),
        );
        nextRow += 1;
      }
      database.connection
        .prepare("UPDATE notes SET body = ? WHERE id = 1")
        .run(`first row, edited in ${label}`);
      for (let index = 0; index < count; index += 1) {
        time.advance(1000);
        await audit.record({ type: "data", action: "test-change", object: label, details: { index } });
      }
      writeFileSync(join(home, "config.json"), JSON.stringify({ port: 11435, note: label }));
    },
    manager: (overrides = {}) =>
      BackupManager.open({
        backupDir: join(home, "backups"),
        home,
        modelsDir: join(home, "models"),
        auditPrivateKey: paths.privateKey,
        signingKeyFile: join(root, "keys", "backup-signing.key"),
        createSigningKey: true,
        time,
        chunker: testChunker,
        ...overrides,
      }),
    async close() {
      await audit.close().catch(() => undefined);
      database.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return folder;
}

/** What must come back from a restore: every table row by row, every other file by hash. */
export interface DataImage {
  tables: Record<string, unknown[]>;
  files: Record<string, string>;
}

export function imageOfLive(folder: DataFolder): DataImage {
  return { tables: tablesOf(folder.database.connection), files: filesOf(folder.home) };
}

export function imageOfFolder(home: string): DataImage {
  const connection = new BetterSqlite3(join(home, "rawrxd.db"), { readonly: true, fileMustExist: true });
  try {
    return { tables: tablesOf(connection), files: filesOf(home) };
  } finally {
    connection.close();
  }
}

function tablesOf(connection: BetterSqlite3.Database): Record<string, unknown[]> {
  const names = (
    connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((row) => row.name);
  return Object.fromEntries(
    names.map((name) => [name, sortedRows(connection.prepare(`SELECT * FROM "${name}"`).all())]),
  );
}

/** Rows in a stable order (some tables are WITHOUT ROWID). */
function sortedRows(rows: unknown[]): unknown[] {
  const keyed = rows.map(
    (row) =>
      [
        JSON.stringify(row, (_key, value: unknown) =>
          Buffer.isBuffer(value) ? value.toString("hex") : value,
        ),
        row,
      ] as const,
  );
  return keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** The files a backup covers (not the database, models or keys), by SHA-256. */
function filesOf(home: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (directory: string): void => {
    if (!existsSync(directory)) return;
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      // The writer lock and the CLI inbox are the live log's working state, never backed up.
      if (name.startsWith(".") || name === "inbox") continue;
      if (statSync(path).isDirectory()) walk(path);
      else
        files[relative(home, path).split(sep).join("/")] = createHash("sha256")
          .update(readFileSync(path))
          .digest("hex");
    }
  };
  walk(join(home, "audit"));
  walk(join(home, "cache"));
  for (const name of ["config.json", "models/.rawrxd-manifest.json", "audit-key/ed25519.pem.pub"])
    if (existsSync(join(home, name)))
      files[name] = createHash("sha256")
        .update(readFileSync(join(home, name)))
        .digest("hex");
  return files;
}
