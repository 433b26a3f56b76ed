/**
 * Finds a model file inside the models folder without ever following a path out of it:
 * symlinks are allowed only when their real target is a regular file inside the same folder
 * (the containment rule is core's `locateInsideFolder`, shared with the workspace).
 */
import { isInsideFolder, isMissingFileError, locateInsideFolder } from "../core/index.js";

export { isInsideFolder, isMissingFileError };

export interface LocatedModelFile {
  fileName: string;
  /** The resolved path that is actually read. */
  realPath: string;
  /** `realPath` relative to the models folder: the manifest's key, shared by links to one file. */
  realRelativePath: string;
  sizeBytes: number;
  mtimeMs: number;
}

export type LocateResult =
  | { kind: "found"; file: LocatedModelFile }
  | { kind: "missing" }
  | { kind: "not-a-file" }
  | { kind: "outside-folder" };

/** `realModelsDir` must already be a realpath. */
export async function locateModelFile(realModelsDir: string, fileName: string): Promise<LocateResult> {
  const result = await locateInsideFolder(realModelsDir, fileName);
  if (result.kind !== "found") return result;
  const { realPath, realRelativePath, sizeBytes, mtimeMs } = result.file;
  return { kind: "found", file: { fileName, realPath, realRelativePath, sizeBytes, mtimeMs } };
}
