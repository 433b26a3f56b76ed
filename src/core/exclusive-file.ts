/**
 * Creates a file only when none is at its path, and never shows a reader a half-written one.
 *
 * `open(path, "wx")` then a write leaves a moment in which the file exists and is empty: a
 * second process that reads it then sees no holder. The lock files of the backup folder and the
 * audit log read an unreadable holder as a killed one and took the lock over, so two writers
 * could each hold it (a CI run caught two backups at once both going ahead). Here the text is
 * written and synced to a private file first, then hard-linked to the path: `link` fails with
 * EEXIST when the path exists, and otherwise the path appears with its whole text.
 *
 * Where the file system has no hard links (link fails with EPERM, ENOTSUP or ENOSYS, as on
 * FAT or some network mounts) it falls back to `open(path, "wx")` and a write.
 */
import { randomUUID } from "node:crypto";
import { link, open, readFile, rename, unlink } from "node:fs/promises";

/** Writes `text` to `path` if no file is there; false when one is. */
export async function createFileExclusively(path: string, text: string, mode = 0o600): Promise<boolean> {
  const staging = `${path}.${process.pid}-${randomUUID()}.new`;
  await writeSynced(staging, text, mode);
  try {
    await link(staging, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
  } finally {
    await unlink(staging).catch(() => undefined);
  }
  try {
    await writeSynced(path, text, mode);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/**
 * Removes `path` only if it still holds `expectedText` (a stale lock judged by that text). It is
 * moved aside first (rename is atomic), then what moved is checked: a lock another process took
 * since the judgement is moved back and kept. False when the file was gone or had changed.
 */
export async function removeFileIfUnchanged(path: string, expectedText: string): Promise<boolean> {
  const aside = `${path}.${process.pid}-${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  const moved = await readFile(aside, "utf8");
  if (moved !== expectedText) {
    await rename(aside, path);
    return false;
  }
  await unlink(aside);
  return true;
}

/** Creates `path` (failing with EEXIST if it exists), writes `text` and syncs it. */
async function writeSynced(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, "wx", mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
