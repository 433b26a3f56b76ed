/**
 * Creating one backup: take the lock, find the parent (incremental: the previous backup of any
 * kind; differential: the last full), capture the data folder, chunk every file into the store
 * (new chunks only), and write the signed manifest last. A file whose SHA-256 equals the
 * parent's is listed without chunks ("unchanged"). Any failure leaves a failed marker, never a
 * manifest; chunks it wrote are orphans that prune removes.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../core/index.js";
import { acquireBackupLock } from "./backup-lock.js";
import type { BackupContext } from "./backup-context.js";
import { databaseFileName, planCapture, type CaptureSource } from "./capture.js";
import {
  catalogOf,
  chainOf,
  nextSequence,
  resolveFiles,
  type BackupEntry,
  type ResolvedFile,
} from "./catalog.js";
import { Chunker } from "./chunker.js";
import { databaseBytes, diskFullError, freeBytesAt, noSpaceCode } from "./disk-full.js";
import {
  failedMarkerPath,
  manifestPath,
  manifestsDirectory,
  readManifests,
  signManifest,
  writeFileAtomically,
  type BackupKind,
  type BackupManifest,
  type FailedMarker,
  type ManifestFile,
} from "./manifest.js";

export function newBackupId(kind: BackupKind, wallMs: number): string {
  const stamp = new Date(wallMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${kind}-${randomBytes(3).toString("hex")}`;
}

/** The caller names the backup (`newBackupId`), so it knows the id even when the backup fails. */
export async function createBackup(
  context: BackupContext,
  kind: BackupKind,
  name: { id: string; createdAtMs: number },
): Promise<BackupManifest> {
  const { time, backupDir } = context;
  const started = time.monotonicNow();
  const { id, createdAtMs } = name;
  await mkdir(manifestsDirectory(backupDir), { recursive: true });
  const lock = await acquireBackupLock(backupDir, {
    pid: process.pid,
    backupId: id,
    startedAtMs: createdAtMs,
    purpose: "backup",
  });
  const scratchDir = join(backupDir, "tmp");
  try {
    if (lock.staleHolder !== undefined)
      await markKilled(backupDir, lock.staleHolder.backupId, lock.staleHolder);
    // Whatever a killed backup left in tmp/ is garbage now that we hold the lock.
    await rm(scratchDir, { recursive: true, force: true });
    await mkdir(scratchDir, { recursive: true });
    let sequence: number | undefined;
    // What is still to be stored, so a full disk can say how much more it needed.
    let pendingBytes: number | undefined;
    let phase: "snapshot" | "store" = "snapshot";
    try {
      const entries = catalogOf(await readManifests(backupDir, context.signingKey));
      sequence = nextSequence(entries);
      const parent = findParent(entries, kind);
      pendingBytes = await databaseBytes(context.layout.home, databaseFileName);
      const sources = await planCapture(
        {
          layout: context.layout,
          scratchDir,
          includeModels: context.includeModels,
          includeAuditPrivateKey: context.includeAuditPrivateKey,
          ...(context.databasePagesPerStep === undefined
            ? {}
            : { databasePagesPerStep: context.databasePagesPerStep }),
        },
        `${id}.db`,
      );
      phase = "store";
      pendingBytes = sources.reduce((sum, source) => sum + source.length, 0);
      const files: ManifestFile[] = [];
      let storedBytes = 0;
      let newChunks = 0;
      for (const source of sources) {
        const before = parent?.files.get(source.path);
        pendingBytes -= source.length;
        // restic's rule: same size and modification time as in the parent = unchanged, not read again.
        if (kind !== "full" && before !== undefined && isSameAsBefore(source, before)) {
          files.push({
            path: source.path,
            size: source.length,
            mode: source.mode,
            sha256: before.sha256,
            mtimeMs: before.mtimeMs,
          });
          continue;
        }
        const stored = await storeFile(context, source).catch((error: unknown) => {
          if (pendingBytes !== undefined) pendingBytes += source.length;
          throw error;
        });
        storedBytes += stored.storedBytes;
        newChunks += stored.newChunks;
        const isUnchanged = kind !== "full" && before !== undefined && before.sha256 === stored.sha256;
        files.push({
          path: source.path,
          size: source.length,
          mode: source.mode,
          sha256: stored.sha256,
          ...(source.mtimeMs === undefined ? {} : { mtimeMs: source.mtimeMs }),
          ...(isUnchanged ? {} : { chunks: stored.chunks }),
        });
      }
      const manifest: BackupManifest = {
        format: 1,
        id,
        kind,
        parent: parent?.id ?? null,
        sequence,
        createdAtMs,
        durationMs: Math.round(time.monotonicNow() - started),
        files,
        totalBytes: files.reduce((sum, file) => sum + file.size, 0),
        storedBytes,
        newChunks,
        includesModels: context.includeModels,
        isEncrypted: context.store.isEncrypted,
      };
      // Every chunk on disk before the manifest that names them.
      await context.store.sync();
      await writeFileAtomically(
        manifestPath(backupDir, id),
        JSON.stringify(signManifest(manifest, context.signingKey)),
      );
      return manifest;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const marker: FailedMarker = {
        id,
        kind,
        createdAtMs,
        error: message,
        ...(sequence === undefined ? {} : { sequence }),
      };
      await writeFileAtomically(failedMarkerPath(backupDir, id), JSON.stringify(marker)).catch(
        () => undefined,
      );
      if (error instanceof AppError) throw error;
      const noSpace = noSpaceCode(error);
      if (noSpace !== undefined)
        throw diskFullError({
          code: noSpace,
          phase,
          id,
          kind,
          backupDir,
          pendingBytes,
          freeBytes: await freeBytesAt(backupDir),
          cause: error,
        });
      throw new AppError(
        "internal",
        `Backup ${id} (${kind}) failed and was marked failed: ${message}. Earlier backups are untouched.`,
        { cause: error },
      );
    }
  } finally {
    await rm(scratchDir, { recursive: true, force: true }).catch(() => undefined);
    await lock.release();
  }
}

interface ParentPoint {
  id: string;
  files: ReadonlyMap<string, ResolvedFile>;
}

function findParent(entries: readonly BackupEntry[], kind: BackupKind): ParentPoint | undefined {
  if (kind === "full") return undefined;
  const candidates = entries.filter((entry) => entry.status !== "failed");
  const base: BackupEntry | undefined =
    kind === "incremental" ? candidates.at(-1) : candidates.filter((entry) => entry.kind === "full").at(-1);
  if (base === undefined)
    throw new AppError(
      "bad-request",
      `There is no ${kind === "incremental" ? "earlier backup" : "full backup"} in the backup folder to base a ${kind} on; create a full backup first (rawrxd backup create --kind full).`,
    );
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const { chain, problem } = chainOf(base.id, byId);
  const resolved = problem === undefined ? resolveFiles(chain) : { files: [], problem };
  if (resolved.problem !== undefined)
    throw new AppError(
      "conflict",
      `Cannot base a ${kind} on backup ${base.id}: ${resolved.problem.message}. Run "rawrxd backup verify" and create a full backup.`,
    );
  return { id: base.id, files: new Map(resolved.files.map((file) => [file.path, file])) };
}

function isSameAsBefore(source: CaptureSource, before: ResolvedFile): boolean {
  return source.mtimeMs !== undefined && before.mtimeMs === source.mtimeMs && before.size === source.length;
}

async function storeFile(
  context: BackupContext,
  source: CaptureSource,
): Promise<{ sha256: string; chunks: string[]; storedBytes: number; newChunks: number }> {
  const hash = createHash("sha256");
  const chunker = new Chunker(context.chunker);
  const chunks: string[] = [];
  let storedBytes = 0;
  let newChunks = 0;
  const keep = async (pieces: Buffer[]): Promise<void> => {
    for (const piece of pieces) {
      const result = await context.store.put(Buffer.from(piece));
      chunks.push(result.id);
      storedBytes += result.storedBytes;
      if (result.storedBytes > 0) newChunks += 1;
    }
  };
  if (source.length > 0) {
    const stream = createReadStream(source.absolutePath, {
      start: 0,
      end: source.length - 1,
      highWaterMark: 256 * 1024,
    });
    let read = 0;
    for await (const data of stream as AsyncIterable<Buffer>) {
      read += data.length;
      hash.update(data);
      await keep(chunker.push(data));
    }
    if (read !== source.length)
      throw new Error(`${source.path} shrank while it was read (${read} of ${source.length} bytes)`);
  }
  await keep(chunker.end());
  return { sha256: hash.digest("hex"), chunks, storedBytes, newChunks };
}

/** Marks the backup a killed process left unfinished as failed (no manifest, so never trusted). */
export async function markKilled(
  backupDir: string,
  id: string,
  holder: { pid: number; startedAtMs: number; purpose: string },
): Promise<void> {
  if (holder.purpose !== "backup") return;
  const names = await readdir(manifestsDirectory(backupDir)).catch(() => [] as string[]);
  if (names.includes(`${id}.json`) || names.includes(`${id}.failed.json`)) return;
  const kind = (/-(full|incremental|differential)-/.exec(id)?.[1] ?? "full") as BackupKind;
  const marker: FailedMarker = {
    id,
    kind,
    createdAtMs: holder.startedAtMs,
    error: `the process (pid ${holder.pid}) ended before the backup finished`,
  };
  await writeFileAtomically(failedMarkerPath(backupDir, id), JSON.stringify(marker));
}
