/**
 * Finds a model file inside the models folder without ever following a path out of it:
 * symlinks are allowed only when their real target is a regular file inside the same folder.
 */
import { lstat, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { describeFileKind } from "../gguf/index.js";

export interface LocatedModelFile {
  fileName: string;
  /** The resolved path that is actually read. */
  realPath: string;
  /** `realPath` relative to the models folder: the manifest's key, shared by links to one file. */
  realRelativePath: string;
  sizeBytes: number;
  mtimeMs: number;
  /** Device and inode of the real file: with size and mtime, what tells a replaced file apart. */
  device: number;
  inode: number;
}

export type LocateResult =
  | { kind: "found"; file: LocatedModelFile }
  | { kind: "missing" }
  /** A directory, FIFO, device or socket: never opened (a FIFO would block the reader). */
  | { kind: "not-a-file"; fileKind: string }
  | { kind: "outside-folder" };

/** `realModelsDir` must already be a realpath. */
export async function locateModelFile(realModelsDir: string, fileName: string): Promise<LocateResult> {
  const path = join(realModelsDir, fileName);
  let linkStats;
  try {
    linkStats = await lstat(path);
  } catch (error) {
    if (isMissingFileError(error)) return { kind: "missing" };
    throw error;
  }
  if (!linkStats.isFile() && !linkStats.isSymbolicLink()) {
    return { kind: "not-a-file", fileKind: describeFileKind(linkStats) };
  }
  let realPath: string;
  try {
    realPath = await realpath(path);
  } catch (error) {
    // A dangling symlink is as good as no file.
    if (isMissingFileError(error)) return { kind: "missing" };
    throw error;
  }
  if (!isInsideFolder(realModelsDir, realPath)) return { kind: "outside-folder" };
  const targetStats = linkStats.isSymbolicLink() ? await stat(realPath) : linkStats;
  if (!targetStats.isFile()) return { kind: "not-a-file", fileKind: describeFileKind(targetStats) };
  return {
    kind: "found",
    file: {
      fileName,
      realPath,
      realRelativePath: relative(realModelsDir, realPath),
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

/** Device, inode, size and mtime: a file replaced, rewritten or touched gets a new identity. */
export function fileIdentityOf(file: LocatedModelFile): string {
  return `${file.device}:${file.inode}:${file.sizeBytes}:${file.mtimeMs}`;
}
