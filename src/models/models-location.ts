/**
 * What `--models` names: a folder of .gguf files (created when missing, which the caller
 * should report), or one .gguf file served as the only model, as `llama-server -m FILE` does.
 * The bundled demo model lives beside the code, never in the user's folder.
 */
import { mkdir, realpath, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../core/index.js";
import { isMissingFileError } from "./model-file.js";
import { isModelFileName, modelFileExtension } from "./model-name.js";

export type ModelsLocation =
  | { kind: "folder"; modelsDir: string; wasCreated: boolean }
  | { kind: "file"; modelsDir: string; fileName: string };

/** The demo model shipped with the package (models/demo/README.md). */
export const demoModelPath = fileURLToPath(new URL("../../models/demo/stories260K.gguf", import.meta.url));

/** Inspects `path`; creates it as a folder when nothing is there and it does not look like a file name. */
export async function prepareModelsLocation(path: string): Promise<ModelsLocation> {
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    if (!isMissingFileError(error)) throw error;
    if (path.toLowerCase().endsWith(modelFileExtension)) {
      throw new AppError(
        "bad-request",
        `Model file ${path} does not exist. Check the path given to --models (-m), or name a folder of .gguf files.`,
      );
    }
    await mkdir(path, { recursive: true }).catch((mkdirError: unknown) => {
      throw new AppError(
        "bad-request",
        `Cannot create the models folder ${path}: ${String(mkdirError)}. Check --models.`,
        { cause: mkdirError },
      );
    });
    return { kind: "folder", modelsDir: path, wasCreated: true };
  }
  if (stats.isDirectory()) return { kind: "folder", modelsDir: path, wasCreated: false };
  if (stats.isFile() && isModelFileName(basename(path))) {
    // A link is followed to its file: the catalog serves only files inside the folder it reads.
    const real = await realpath(path);
    const fileName = isModelFileName(basename(real)) ? basename(real) : undefined;
    if (fileName !== undefined) return { kind: "file", modelsDir: dirname(real), fileName };
  }
  throw new AppError(
    "bad-request",
    `--models names ${path}, which is neither a folder nor a .gguf file. Pass a folder of .gguf files or one .gguf file.`,
  );
}
