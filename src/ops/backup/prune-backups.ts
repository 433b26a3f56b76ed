/**
 * Retention and prune: keep every backup within `keepWithinMs` of now, plus the newest backup of
 * each of the `keepDaily` most recent UTC days that have one (restic's --keep-within and
 * --keep-daily), plus every backup a kept one needs to restore (its chain). Prune deletes the
 * other manifests and failed markers, then only the chunks no kept manifest references.
 */
import { readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { acquireBackupLock } from "./backup-lock.js";
import type { BackupContext } from "./backup-context.js";
import { catalogOf, chainOf, type BackupEntry } from "./catalog.js";
import { markKilled } from "./create-backup.js";
import { failedMarkerPath, manifestPath, readManifests } from "./manifest.js";
import { removeVerification } from "./verification-record.js";

export interface RetentionPolicy {
  keepWithinMs: number;
  keepDaily: number;
}

export interface PruneResult {
  kept: string[];
  deleted: string[];
  chunksDeleted: number;
  bytesFreed: number;
  dryRun: boolean;
}

/** Ids to keep, given the catalog (oldest first) and now. */
export function selectKept(
  entries: readonly BackupEntry[],
  policy: RetentionPolicy,
  nowMs: number,
): Set<string> {
  const points = entries.filter((entry) => entry.status === "complete");
  const kept = new Set<string>();
  for (const entry of points) if (nowMs - entry.createdAtMs <= policy.keepWithinMs) kept.add(entry.id);
  const days = new Set<string>();
  for (const entry of [...points].reverse()) {
    if (days.size >= policy.keepDaily) break;
    const day = new Date(entry.createdAtMs).toISOString().slice(0, 10);
    if (days.has(day)) continue;
    days.add(day);
    kept.add(entry.id);
  }
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  for (const id of [...kept]) for (const manifest of chainOf(id, byId).chain) kept.add(manifest.id);
  return kept;
}

export async function pruneBackups(
  context: BackupContext,
  policy: RetentionPolicy,
  options: { dryRun?: boolean } = {},
): Promise<PruneResult> {
  const lock = await acquireBackupLock(context.backupDir, {
    pid: process.pid,
    backupId: "prune",
    startedAtMs: context.time.wallNow(),
    purpose: "prune",
  });
  try {
    if (lock.staleHolder !== undefined)
      await markKilled(context.backupDir, lock.staleHolder.backupId, lock.staleHolder);
    const entries = catalogOf(await readManifests(context.backupDir, context.signingKey));
    const nowMs = context.time.wallNow();
    const kept = selectKept(entries, policy, nowMs);
    // Unreadable or unsigned manifests are kept for the operator to look at, never silently removed,
    // and the chunks they name stay; failed markers go once past the age limit.
    const doomed = entries.filter(
      (entry) =>
        !kept.has(entry.id) &&
        (entry.status === "complete" ||
          (entry.status === "failed" && nowMs - entry.createdAtMs > policy.keepWithinMs)),
    );
    const referenced = new Set<string>();
    const survivors = entries.filter((entry) => !doomed.includes(entry));
    for (const entry of survivors) {
      const stored = entry.manifest ?? (await rawManifestFiles(context, entry.id));
      for (const file of stored?.files ?? []) for (const chunk of file.chunks ?? []) referenced.add(chunk);
    }
    const orphans = (await context.store.listIds()).filter((id) => !referenced.has(id));
    let bytesFreed = 0;
    for (const chunk of orphans) bytesFreed += await context.store.storedSize(chunk).catch(() => 0);
    if (options.dryRun !== true) {
      for (const entry of doomed) {
        await unlink(
          entry.status === "failed"
            ? failedMarkerPath(context.backupDir, entry.id)
            : manifestPath(context.backupDir, entry.id),
        );
        await removeVerification(context.backupDir, entry.id);
      }
      for (const chunk of orphans) await context.store.remove(chunk);
      await rm(join(context.backupDir, "tmp"), { recursive: true, force: true });
      await removeEmptyPrefixes(context.store.root);
    }
    return {
      kept: survivors.filter((entry) => entry.status !== "failed").map((entry) => entry.id),
      deleted: doomed.map((entry) => entry.id),
      chunksDeleted: orphans.length,
      bytesFreed,
      dryRun: options.dryRun === true,
    };
  } finally {
    await lock.release();
  }
}

/** The file list of a manifest whose signature fails: its chunks are kept all the same. */
async function rawManifestFiles(
  context: BackupContext,
  id: string,
): Promise<{ files: { chunks?: string[] }[] } | undefined> {
  const stored = (await readManifests(context.backupDir, context.signingKey)).find((item) => item.id === id);
  return stored?.state === "signed" ? stored.signed.manifest : undefined;
}

async function removeEmptyPrefixes(root: string): Promise<void> {
  for (const prefix of await readdir(root).catch(() => [] as string[])) {
    const names = await readdir(join(root, prefix)).catch(() => ["keep"]);
    if (names.length === 0) await rm(join(root, prefix), { recursive: true, force: true });
  }
}
