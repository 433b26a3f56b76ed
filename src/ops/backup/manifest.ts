/**
 * Backup manifests: what one restore point holds (kind, parent, time, every file with its size,
 * mode, SHA-256 and, when it changed since the parent, its chunk list), signed with HMAC-SHA-256
 * under a key kept outside the backup folder, so a hash list beside the data cannot be rewritten
 * unnoticed. Written last and atomically: a backup without a manifest never happened.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";

export const backupKinds = ["full", "incremental", "differential"] as const;
export type BackupKind = (typeof backupKinds)[number];

export interface ManifestFile {
  /** Relative to the data folder, `/`-separated: `rawrxd.db`, `audit/segment-000001-20261201.jsonl`. */
  path: string;
  size: number;
  /** Permission bits (0o444 for sealed audit segments). */
  mode: number;
  sha256: string;
  /** The live file's modification time when captured (not for the database snapshot). */
  mtimeMs?: number;
  /** Chunk ids in order; absent when the file is the same as in the parent backup. */
  chunks?: string[];
}

export interface BackupManifest {
  format: 1;
  id: string;
  kind: BackupKind;
  /** Incremental: the previous backup of any kind; differential: the last full; full: null. */
  parent: string | null;
  /** 1, 2, 3… in creation order within the folder: orders backups made within one millisecond. */
  sequence: number;
  createdAtMs: number;
  durationMs: number;
  files: ManifestFile[];
  /** Bytes of the files at this point. */
  totalBytes: number;
  /** Bytes this backup added to the chunk store (new chunks only). */
  storedBytes: number;
  newChunks: number;
  includesModels: boolean;
  isEncrypted: boolean;
}

export interface SignedManifest {
  manifest: BackupManifest;
  signature: { algorithm: "hmac-sha256"; keyId: string; value: string };
}

export interface SigningKey {
  secret: Buffer;
  keyId: string;
}

/** JSON with object keys sorted at every level: the bytes that are signed. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
}

export function signManifest(manifest: BackupManifest, key: SigningKey): SignedManifest {
  const value = createHmac("sha256", key.secret).update(canonicalJson(manifest)).digest("hex");
  return { manifest, signature: { algorithm: "hmac-sha256", keyId: key.keyId, value } };
}

export function hasValidSignature(signed: SignedManifest, key: SigningKey): boolean {
  if (signed.signature?.algorithm !== "hmac-sha256" || typeof signed.signature.value !== "string")
    return false;
  const expected = createHmac("sha256", key.secret).update(canonicalJson(signed.manifest)).digest();
  const given = Buffer.from(signed.signature.value, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function manifestsDirectory(backupDir: string): string {
  return join(backupDir, "manifests");
}

export function manifestPath(backupDir: string, id: string): string {
  return join(manifestsDirectory(backupDir), `${id}.json`);
}

export function failedMarkerPath(backupDir: string, id: string): string {
  return join(manifestsDirectory(backupDir), `${id}.failed.json`);
}

/** Writes to a temporary name, syncs, renames: the manifest is whole or absent. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, "w", 0o600);
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export type StoredManifest =
  | { id: string; state: "signed"; signed: SignedManifest; isSignatureValid: boolean }
  | { id: string; state: "unreadable"; reason: string }
  | {
      id: string;
      state: "failed";
      kind: BackupKind | undefined;
      createdAtMs: number | undefined;
      sequence: number | undefined;
      error: string;
    };

export interface FailedMarker {
  id: string;
  kind: BackupKind;
  createdAtMs: number;
  sequence?: number;
  error: string;
}

/** Every manifest and failed marker in the folder, read and checked (not yet ordered). */
export async function readManifests(backupDir: string, key: SigningKey): Promise<StoredManifest[]> {
  let names: string[];
  try {
    names = await readdir(manifestsDirectory(backupDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const stored: StoredManifest[] = [];
  for (const name of names.sort()) {
    const failed = /^(.+)\.failed\.json$/.exec(name);
    if (failed) {
      const marker = await readJson<Partial<FailedMarker>>(join(manifestsDirectory(backupDir), name));
      stored.push({
        id: failed[1]!,
        state: "failed",
        kind: marker?.kind,
        createdAtMs: marker?.createdAtMs,
        sequence: marker?.sequence,
        error: marker?.error ?? "unknown",
      });
      continue;
    }
    const match = /^([A-Za-z0-9-]+)\.json$/.exec(name);
    if (!match) continue;
    stored.push(await readManifest(backupDir, match[1]!, key));
  }
  return stored;
}

export async function readManifest(backupDir: string, id: string, key: SigningKey): Promise<StoredManifest> {
  let text: string;
  try {
    text = await readFile(manifestPath(backupDir, id), "utf8");
  } catch (error) {
    return {
      id,
      state: "unreadable",
      reason: `cannot read its manifest (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    };
  }
  let signed: SignedManifest;
  try {
    signed = JSON.parse(text) as SignedManifest;
  } catch {
    return { id, state: "unreadable", reason: "its manifest is not valid JSON" };
  }
  if (typeof signed?.manifest?.id !== "string" || !Array.isArray(signed.manifest.files))
    return { id, state: "unreadable", reason: "its manifest lacks id or files" };
  const isSignatureValid = hasValidSignature(signed, key) && signed.manifest.id === id;
  return { id, state: "signed", signed, isSignatureValid };
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}
