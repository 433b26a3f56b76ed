/**
 * What a backup captures from a data folder, consistently while the server runs:
 * - `rawrxd.db` through SQLite's online backup API on a separate read connection, in a worker
 *   thread (database-snapshot.ts), never by copying the live file;
 * - `audit/`: checkpoints first, then the segments, each up to its last complete line (records
 *   are appended before the checkpoint that covers them, so every captured checkpoint finds its
 *   records; a torn last line is left out);
 * - `config.json`, the thread-calibration cache (`cache/`), the models manifest, the audit public
 *   key; the model files themselves only when asked. Never the backup folder, the backup keys or
 *   (unless asked) the audit private key.
 */
import { open, readdir, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { join, relative, sep } from "node:path";
import { snapshotDatabaseFile } from "./database-snapshot.js";

export interface DataFolderLayout {
  home: string;
  modelsDir: string;
  /** The audit signing key's private file; its `.pub` is always captured when it is under home. */
  auditPrivateKey: string;
  /** Folders never captured (the backup folder itself when it sits under home). */
  excluded: readonly string[];
}

export interface CaptureOptions {
  layout: DataFolderLayout;
  /** Where the database snapshot is written while the backup runs. */
  scratchDir: string;
  includeModels: boolean;
  includeAuditPrivateKey: boolean;
  /** Pages copied per step of the online backup (smaller: shorter event-loop blocks). Default 256. */
  databasePagesPerStep?: number;
}

export interface CaptureSource {
  /** In the backup, `/`-separated. */
  path: string;
  absolutePath: string;
  mode: number;
  /** Read only this many bytes (the rest is a torn line, or appeared after the cut). */
  length: number;
  /** The live file's modification time; undefined for the database snapshot (always read). */
  mtimeMs: number | undefined;
}

export const databaseFileName = "rawrxd.db";
const modelsManifestName = ".rawrxd-manifest.json";

export async function planCapture(options: CaptureOptions, scratchName: string): Promise<CaptureSource[]> {
  const { layout } = options;
  const sources: CaptureSource[] = [];
  const database = await snapshotDatabase(
    join(layout.home, databaseFileName),
    join(options.scratchDir, scratchName),
    options,
  );
  sources.push(...(await captureAudit(join(layout.home, "audit"))));
  for (const path of [join(layout.home, "config.json"), `${layout.auditPrivateKey}.pub`])
    await addWhole(sources, path, underHome(layout.home, path));
  if (options.includeAuditPrivateKey)
    await addWhole(sources, layout.auditPrivateKey, underHome(layout.home, layout.auditPrivateKey));
  for (const path of await filesUnder(join(layout.home, "cache")))
    await addWhole(sources, path, underHome(layout.home, path));
  await addWhole(sources, join(layout.modelsDir, modelsManifestName), `models/${modelsManifestName}`);
  if (options.includeModels) {
    for (const name of (await listNames(layout.modelsDir)).filter((file) =>
      file.toLowerCase().endsWith(".gguf"),
    ))
      await addWhole(sources, join(layout.modelsDir, name), `models/${name}`);
  }
  const excluded = layout.excluded.map((folder) => folder + sep);
  // The database snapshot sits in the backup folder's scratch space: it is added after the filter.
  const kept = sources.filter((source) => !excluded.some((folder) => source.absolutePath.startsWith(folder)));
  return database === undefined ? kept : [database, ...kept];
}

async function snapshotDatabase(
  livePath: string,
  snapshotPath: string,
  options: CaptureOptions,
): Promise<CaptureSource | undefined> {
  const info = await statOrUndefined(livePath);
  if (info === undefined) return undefined;
  await snapshotDatabaseFile(livePath, snapshotPath, options.databasePagesPerStep ?? 256);
  const size = (await stat(snapshotPath)).size;
  return {
    path: databaseFileName,
    absolutePath: snapshotPath,
    mode: info.mode & 0o777,
    length: size,
    mtimeMs: undefined,
  };
}

async function captureAudit(directory: string): Promise<CaptureSource[]> {
  const sources: CaptureSource[] = [];
  // Checkpoints before segments: a checkpoint is appended after the records it covers.
  const checkpoints = join(directory, "checkpoints.jsonl");
  const checkpointSource = await completeLines(checkpoints, "audit/checkpoints.jsonl");
  for (const name of (await listNames(directory)).sort()) {
    const path = join(directory, name);
    if (name === "checkpoints.jsonl" || name.startsWith(".")) continue;
    const source = name.endsWith(".jsonl")
      ? await completeLines(path, `audit/${name}`)
      : await wholeFile(path, `audit/${name}`);
    if (source !== undefined) sources.push(source);
  }
  if (checkpointSource !== undefined) sources.push(checkpointSource);
  return sources;
}

/** The file up to and including its last LF. */
async function completeLines(path: string, backupPath: string): Promise<CaptureSource | undefined> {
  const info = await statOrUndefined(path);
  if (info === undefined || !info.isFile()) return undefined;
  const handle = await open(path, "r");
  try {
    let end = info.size;
    const block = Buffer.alloc(64 * 1024);
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const lastLf = block.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (lastLf !== -1)
        return {
          path: backupPath,
          absolutePath: path,
          mode: info.mode & 0o777,
          length: start + lastLf + 1,
          mtimeMs: info.mtimeMs,
        };
      end = start;
    }
    return {
      path: backupPath,
      absolutePath: path,
      mode: info.mode & 0o777,
      length: 0,
      mtimeMs: info.mtimeMs,
    };
  } finally {
    await handle.close();
  }
}

async function wholeFile(path: string, backupPath: string): Promise<CaptureSource | undefined> {
  const info = await statOrUndefined(path);
  if (info === undefined || !info.isFile()) return undefined;
  return {
    path: backupPath,
    absolutePath: path,
    mode: info.mode & 0o777,
    length: info.size,
    mtimeMs: info.mtimeMs,
  };
}

/** Adds a whole file at `backupPath`, or at its path relative to home (skipped when outside home). */
async function addWhole(
  sources: CaptureSource[],
  path: string,
  backupPath: string | undefined,
): Promise<void> {
  if (backupPath === undefined) return;
  const source = await wholeFile(path, backupPath);
  if (source !== undefined) sources.push(source);
}

function underHome(home: string, path: string): string | undefined {
  const relativePath = relative(home, path);
  if (relativePath.startsWith("..") || relativePath === "") return undefined;
  return relativePath.split(sep).join("/");
}

async function filesUnder(directory: string): Promise<string[]> {
  const files: string[] = [];
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}

async function listNames(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch {
    return [];
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
