/**
 * A backup that runs out of space (ENOSPC, or EDQUOT: a quota) fails with an error that names
 * the backup folder and how many bytes it still needed, instead of the bare errno of whichever
 * write hit the limit.
 */
import { stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { AppError, formatBytes } from "../../core/index.js";
import type { BackupKind } from "./manifest.js";

const noSpaceCodes = new Set(["ENOSPC", "EDQUOT", "SQLITE_FULL"]);

/** The errno (or SQLite code) when `error`, or an error in its `cause` chain, is a full disk or an exhausted quota. */
export function noSpaceCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code !== undefined && noSpaceCodes.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/** Bytes an unprivileged writer may still use on the file system holding `directory`. */
export async function freeBytesAt(directory: string): Promise<number | undefined> {
  try {
    const stats = await statfs(directory);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

export interface DiskFullFacts {
  id: string;
  kind: BackupKind;
  backupDir: string;
  /**
   * While the database is snapshotted: the database's size (what the snapshot needs before the
   * rest is stored); after: the bytes of data not yet stored (an upper bound: chunks already in
   * the store are not written again).
   */
  pendingBytes: number | undefined;
  phase: "snapshot" | "store";
  freeBytes: number | undefined;
  cause: unknown;
}

export function diskFullError(facts: DiskFullFacts & { code: string }): AppError {
  const { id, kind, backupDir, pendingBytes, freeBytes, code, phase } = facts;
  const free =
    freeBytes === undefined ? "" : `; ${formatBytes(freeBytes)} (${freeBytes} bytes) free there now`;
  const needed =
    pendingBytes === undefined || pendingBytes === 0
      ? `It needs more space than the disk has${free}.`
      : phase === "snapshot"
        ? `Its database snapshot alone needs about ${formatBytes(pendingBytes)} (${pendingBytes} bytes), the rest of the data folder more${free}.`
        : `It needs up to ${formatBytes(pendingBytes)} (${pendingBytes} bytes) more to store the rest of the data folder${free}.`;
  return new AppError(
    "insufficient-storage",
    `Backup ${id} (${kind}) failed: the disk holding the backup folder ${backupDir} is full (${code}). ${needed} ` +
      "Free space there or point --backup-dir at a larger disk, then run the backup again. " +
      "Earlier backups are untouched; this one is marked failed and is not a restore point.",
    { cause: facts.cause },
  );
}

/** The live database's size with its WAL: about what its snapshot needs. */
export async function databaseBytes(home: string, fileName: string): Promise<number | undefined> {
  let total = 0;
  for (const name of [fileName, `${fileName}-wal`])
    total += await stat(join(home, name)).then(
      (stats) => stats.size,
      () => 0,
    );
  return total > 0 ? total : undefined;
}
