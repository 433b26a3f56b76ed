/**
 * Finding a file inside an operator-configured folder without ever following a path out of it
 * (the models folder, the workspace): a symlink counts only when its real target lies inside the
 * same folder. The folder must already be a realpath; `relativePath` is joined under it and its
 * real path checked, so `..`, absolute paths and links out all end as `outside-folder`.
 */
import type { Stats } from "node:fs";
import { lstat, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";

export interface ContainedFile {
  /** The resolved path that is actually read. */
  realPath: string;
  /** `realPath` relative to the folder (links to one file share it). */
  realRelativePath: string;
  kind: "file" | "directory";
  sizeBytes: number;
  mtimeMs: number;
  /** Device and inode of the real file: with size and mtime, what tells a replaced file apart. */
  device: number;
  inode: number;
}

export type ContainedLookup =
  | { kind: "found"; file: ContainedFile }
  | { kind: "missing" }
  /** A directory (unless allowed), FIFO, device or socket: never opened (a FIFO would block). */
  | { kind: "not-a-file"; stats: Stats }
  | { kind: "outside-folder" };

export interface LocateOptions {
  /** Directories count as found (kind "directory"); otherwise they are `not-a-file`. */
  allowDirectories?: boolean;
}

/** `realFolder` must already be a realpath. */
export async function locateInsideFolder(
  realFolder: string,
  relativePath: string,
  options: LocateOptions = {},
): Promise<ContainedLookup> {
  const path = join(realFolder, relativePath);
  let linkStats;
  try {
    linkStats = await lstat(path);
  } catch (error) {
    if (isMissingFileError(error)) return { kind: "missing" };
    throw error;
  }
  const isDirectory = linkStats.isDirectory();
  if (!linkStats.isFile() && !linkStats.isSymbolicLink() && !(isDirectory && options.allowDirectories))
    return { kind: "not-a-file", stats: linkStats };
  let realPath: string;
  try {
    realPath = await realpath(path);
  } catch (error) {
    // A dangling symlink is as good as no file.
    if (isMissingFileError(error)) return { kind: "missing" };
    throw error;
  }
  if (!isInsideFolder(realFolder, realPath)) return { kind: "outside-folder" };
  const targetStats = linkStats.isSymbolicLink() ? await stat(realPath) : linkStats;
  const kind = targetStats.isFile() ? "file" : targetStats.isDirectory() ? "directory" : undefined;
  if (kind === undefined || (kind === "directory" && options.allowDirectories !== true))
    return { kind: "not-a-file", stats: targetStats };
  return {
    kind: "found",
    file: {
      realPath,
      realRelativePath: relative(realFolder, realPath),
      kind,
      sizeBytes: targetStats.size,
      mtimeMs: targetStats.mtimeMs,
      device: targetStats.dev,
      inode: targetStats.ino,
    },
  };
}

/** True when `candidate` is a path strictly below `folder` (both real paths). */
export function isInsideFolder(folder: string, candidate: string): boolean {
  const prefix = folder.endsWith(sep) ? folder : folder + sep;
  return candidate.startsWith(prefix) && candidate.length > prefix.length;
}

export function isMissingFileError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP";
}
