/**
 * The thread-choice cache ($RAWRXD_HOME/cache/threads.json): one entry per model file, machine,
 * engine build and candidate list, with the time and the load conditions it was measured under
 * (docs/decisions/0011, 0032). Only calibrations taken on a quiet machine are written.
 */
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname } from "node:path";
import type { ThreadChoice } from "../../gpu/index.js";
import type { LoadConditions } from "./load-check.js";

export const cacheFileName = "threads.json";
const cacheVersion = 3;

export interface CacheEntry {
  choice: ThreadChoice;
  measuredAt: string;
  /** What the machine was doing while it was measured; absent where /proc is not readable. */
  conditions?: LoadConditions | undefined;
}

interface CacheFile {
  version: number;
  entries: Record<string, CacheEntry>;
}

export async function cacheKey(parts: {
  modelPath: string;
  engineKey: string;
  cores: number;
  candidates: readonly number[];
}): Promise<string> {
  const file = await stat(parts.modelPath);
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${parts.modelPath}|${file.size}|${Math.round(file.mtimeMs)}|${cpu}|${parts.cores} cores|${parts.engineKey}|${parts.candidates.join(",")}`;
}

export async function readCacheEntry(path: string, key: string): Promise<CacheEntry | undefined> {
  return (await readCache(path)).entries[key];
}

export async function writeCacheEntry(path: string, key: string, entry: CacheEntry): Promise<void> {
  const cache = await readCache(path);
  cache.entries[key] = entry;
  await saveCache(path, cache);
}

/** Replaces the choice of an entry (the served trial settled it), keeping when and under what it was measured. */
export async function updateCacheChoice(path: string, key: string, choice: ThreadChoice): Promise<void> {
  const cache = await readCache(path);
  const entry = cache.entries[key];
  if (entry === undefined) return;
  cache.entries[key] = { ...entry, choice };
  await saveCache(path, cache);
}

/** Drops one entry (a choice that looked wrong while serving): the next calibration measures again. */
export async function deleteCacheEntry(path: string, key: string): Promise<void> {
  const cache = await readCache(path);
  if (cache.entries[key] === undefined) return;
  delete cache.entries[key];
  await saveCache(path, cache);
}

async function readCache(path: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<CacheFile>;
    if (parsed.version === cacheVersion && parsed.entries !== null && typeof parsed.entries === "object")
      return { version: cacheVersion, entries: parsed.entries };
  } catch {
    // Missing or unreadable: start over.
  }
  return { version: cacheVersion, entries: {} };
}

async function saveCache(path: string, cache: CacheFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  await writeFile(temporaryPath, JSON.stringify(cache, null, 2));
  await rename(temporaryPath, path);
}
