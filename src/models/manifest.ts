/**
 * `<modelsDir>/.rawrxd-manifest.json`: SHA-256 digests keyed by file name, size and mtime, so
 * a restart does not rehash large files. Writes go to a temp file and are renamed in place,
 * so a reader never sees half a file; updates from one process are serialised. Two processes
 * writing at once (a `pull` beside a running server) can lose one entry, which only costs a
 * rehash later.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const manifestFileName = ".rawrxd-manifest.json";

export interface ManifestEntry {
  sizeBytes: number;
  mtimeMs: number;
  sha256: string;
}

interface ManifestFile {
  version: 1;
  files: Record<string, ManifestEntry>;
}

const pendingWrites = new Map<string, Promise<void>>();

/** Reads the manifest; a missing or unreadable one is treated as empty. */
export async function readManifest(modelsDir: string): Promise<Record<string, ManifestEntry>> {
  let text: string;
  try {
    text = await readFile(join(modelsDir, manifestFileName), "utf8");
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as Partial<ManifestFile> | null;
    const files = parsed?.files;
    if (files === undefined || files === null || typeof files !== "object") return {};
    return Object.fromEntries(Object.entries(files).filter(([, entry]) => isManifestEntry(entry)));
  } catch {
    // A corrupt manifest is only a cache: start over rather than fail the catalog.
    return {};
  }
}

/** The digest recorded for a file, when its size and mtime still match. */
export async function findManifestDigest(
  modelsDir: string,
  fileName: string,
  stats: { sizeBytes: number; mtimeMs: number },
): Promise<string | undefined> {
  const entry = (await readManifest(modelsDir))[fileName];
  if (entry === undefined) return undefined;
  return entry.sizeBytes === stats.sizeBytes && entry.mtimeMs === stats.mtimeMs ? entry.sha256 : undefined;
}

/**
 * Applies `change` to the files map and writes the result. Returns without writing when
 * `change` returns false (nothing changed).
 */
export async function updateManifest(
  modelsDir: string,
  change: (files: Record<string, ManifestEntry>) => boolean,
): Promise<void> {
  const previous = pendingWrites.get(modelsDir) ?? Promise.resolve();
  const next = previous.then(async () => {
    const files = await readManifest(modelsDir);
    if (!change(files)) return;
    const content: ManifestFile = { version: 1, files };
    const path = join(modelsDir, manifestFileName);
    const temporaryPath = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await writeFile(temporaryPath, JSON.stringify(content, null, 2) + "\n");
      await rename(temporaryPath, path);
    } catch (error) {
      await rm(temporaryPath, { force: true });
      throw error;
    }
  });
  const settled = next.catch(() => {});
  pendingWrites.set(modelsDir, settled);
  void settled.then(() => {
    if (pendingWrites.get(modelsDir) === settled) pendingWrites.delete(modelsDir);
  });
  return next;
}

/** Records one file's digest. */
export function recordManifestDigest(
  modelsDir: string,
  fileName: string,
  entry: ManifestEntry,
): Promise<void> {
  return updateManifest(modelsDir, (files) => {
    const current = files[fileName];
    if (
      current?.sha256 === entry.sha256 &&
      current.sizeBytes === entry.sizeBytes &&
      current.mtimeMs === entry.mtimeMs
    ) {
      return false;
    }
    files[fileName] = entry;
    return true;
  });
}

function isManifestEntry(value: unknown): value is ManifestEntry {
  if (value === null || typeof value !== "object") return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry["sizeBytes"] === "number" &&
    typeof entry["mtimeMs"] === "number" &&
    typeof entry["sha256"] === "string" &&
    /^[0-9a-f]{64}$/.test(entry["sha256"])
  );
}
