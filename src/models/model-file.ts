/**
 * Finds a model file inside the models folder without ever following a path out of it:
 * symlinks are allowed only when their real target is a regular file inside the same folder
 * (the containment rule is core's `locateInsideFolder`, shared with the workspace).
 */
import { describeFileKind } from "../gguf/index.js";
import { isInsideFolder, isMissingFileError, locateInsideFolder, type ContainedFile } from "../core/index.js";

export { isInsideFolder, isMissingFileError };

/** A model file found by core's containment rule (`realRelativePath` is the manifest's key, shared by links to one file), and the name it was asked by. */
export interface LocatedModelFile extends Omit<ContainedFile, "kind"> {
  fileName: string;
}

export type LocateResult =
  | { kind: "found"; file: LocatedModelFile }
  | { kind: "missing" }
  /** A directory, FIFO, device or socket: never opened (a FIFO would block the reader). */
  | { kind: "not-a-file"; fileKind: string }
  | { kind: "outside-folder" };

/** `realModelsDir` must already be a realpath. */
export async function locateModelFile(realModelsDir: string, fileName: string): Promise<LocateResult> {
  const result = await locateInsideFolder(realModelsDir, fileName);
  if (result.kind === "not-a-file") return { kind: "not-a-file", fileKind: describeFileKind(result.stats) };
  if (result.kind !== "found") return result;
  const { kind: _fileKind, ...file } = result.file;
  return { kind: "found", file: { fileName, ...file } };
}

/** Device, inode, size and mtime: a file replaced, rewritten or touched gets a new identity. */
export function fileIdentityOf(file: LocatedModelFile): string {
  return `${file.device}:${file.inode}:${file.sizeBytes}:${file.mtimeMs}`;
}
