/**
 * One backup writer at a time per backup folder: `<backupDir>/.lock` holds the pid, the backup
 * id and the start time; it appears with its whole text or not at all (createFileExclusively), so
 * a second backup never reads a half-written lock as a killed one's. A second backup refuses
 * with who holds the lock.
 * A lock whose pid is gone was left by a killed backup: it is taken over, and that backup is
 * marked failed (its chunks are orphans for prune; it never wrote a manifest).
 */
import { readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { AppError, createFileExclusively, removeFileIfUnchanged } from "../../core/index.js";

export interface LockHolder {
  pid: number;
  backupId: string;
  startedAtMs: number;
  purpose: string;
}

export interface HeldLock {
  release(): Promise<void>;
  /** What a killed earlier holder left behind, when the lock was taken over. */
  staleHolder: LockHolder | undefined;
}

export function lockPath(backupDir: string): string {
  return join(backupDir, ".lock");
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function acquireBackupLock(backupDir: string, holder: LockHolder): Promise<HeldLock> {
  const path = lockPath(backupDir);
  let staleHolder: LockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await createFileExclusively(path, JSON.stringify(holder))) {
      let isReleased = false;
      return {
        staleHolder,
        release: async () => {
          if (isReleased) return;
          isReleased = true;
          await unlink(path).catch(() => undefined);
        },
      };
    }
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) continue; // released between our attempt and the read
    const current = parseHolder(text);
    if (current !== undefined && isProcessAlive(current.pid)) {
      const since = new Date(current.startedAtMs).toISOString();
      throw new AppError(
        "conflict",
        `Another backup operation (${current.purpose} ${current.backupId}, pid ${current.pid}, since ${since}) holds the backup folder; wait for it to finish and try again.`,
      );
    }
    // Only the stale lock as read: one another backup took meanwhile stays theirs.
    if (await removeFileIfUnchanged(path, text)) staleHolder = current ?? staleHolder;
  }
  // No path in the message: it reaches API clients (409 on POST /v1/backups).
  throw new AppError(
    "conflict",
    "Cannot take the backup folder's lock: other backup operations kept taking it first; wait for them to finish and try again.",
  );
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== "number") return undefined;
    return {
      pid: value.pid,
      backupId: value.backupId ?? "unknown",
      startedAtMs: value.startedAtMs ?? 0,
      purpose: value.purpose ?? "backup",
    };
  } catch {
    return undefined;
  }
}
