/**
 * A generated RAWRXD_HOME for the backup benchmark: about 60 % database (4 KiB blobs), 38 %
 * audit log (real signed segments, written with group commit), config and cache files.
 */
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Database } from "../../src/store/index.js";
import { AuditLog, auditPaths, loadOrCreateSigningKey } from "../../src/ops/index.js";
import { benchDirectory } from "../lib/models.js";

export const blobBytes = 4096;
const storiesModel = join(benchDirectory, "..", "..", "shared", "models", "stories260K.gguf");

export interface GeneratedFolder {
  home: string;
  modelsDir: string;
  rows: number;
}

export async function generateDataFolder(home: string, sizeBytes: number): Promise<GeneratedFolder> {
  const modelsDir = join(home, "models");
  await mkdir(join(home, "cache"), { recursive: true });
  await mkdir(modelsDir, { recursive: true });
  await copyFile(storiesModel, join(modelsDir, "bench.gguf"));
  const rows = Math.max(1, Math.round((sizeBytes * 0.6) / blobBytes));
  const database = Database.open({ path: join(home, "rawrxd.db") });
  try {
    const connection = database.connection;
    connection.exec("CREATE TABLE bench_blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
    const insert = connection.prepare("INSERT INTO bench_blobs (id, body) VALUES (?, ?)");
    const batch = connection.transaction((from: number, to: number) => {
      for (let id = from; id < to; id += 1) insert.run(id, randomBytes(blobBytes));
    });
    for (let from = 0; from < rows; from += 5000) batch(from, Math.min(rows, from + 5000));
    connection.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    database.close();
  }
  await writeAudit(home, sizeBytes * 0.38);
  await writeFile(join(home, "config.json"), JSON.stringify({ port: 11435, parallel: 4 }, null, 2));
  await writeFile(join(home, "cache", "threads.json"), JSON.stringify({ entries: {} }));
  return { home, modelsDir, rows };
}

/** Records of ~2 KiB, 256 in flight (group commit), until the log holds `bytes`. */
async function writeAudit(home: string, bytes: number): Promise<void> {
  const paths = auditPaths(home);
  const log = await AuditLog.open({
    directory: paths.directory,
    signingKey: await loadOrCreateSigningKey(paths.privateKey),
    nodeId: "bench",
    maxSegmentBytes: 64 * 1024 * 1024,
  });
  const records = Math.max(1, Math.round(bytes / 2300));
  let issued = 0;
  const writer = async (): Promise<void> => {
    while (issued < records) {
      issued += 1;
      await log.record({
        type: "inference",
        action: "generate",
        requestId: `bench-${issued}`,
        details: { note: randomBytes(1000).toString("hex") },
      });
    }
  };
  await Promise.all(Array.from({ length: 256 }, () => writer()));
  await log.close();
}

/** Rewrites `fraction` of the blob rows, spread over the table (a 1 % change). */
export function changeRows(database: Database, rows: number, fraction: number): number {
  const update = database.connection.prepare("UPDATE bench_blobs SET body = ? WHERE id = ?");
  const count = Math.max(1, Math.round(rows * fraction));
  const step = Math.max(1, Math.floor(rows / count));
  database.connection.transaction(() => {
    for (let index = 0; index < count; index += 1) update.run(randomBytes(blobBytes), (index * step) % rows);
  })();
  return count;
}
