/** Error messages of the models folder: what happened, to which model, and what to do. */
import { AppError } from "../core/index.js";
import type { LocateResult } from "./model-file.js";
import { modelFileExtension } from "./model-name.js";

const maxNamesShown = 10;

/**
 * AppError "model-not-found" naming the model, the folder, and the models that exist; a name
 * that differs only in case gets "did you mean" first, since names are case-sensitive.
 */
export function modelNotFoundError(
  name: string,
  options: { modelsDir: string; availableFileNames: string[]; isSingleFile?: boolean },
): AppError {
  const names = options.availableFileNames.map((fileName) => fileName.slice(0, -modelFileExtension.length));
  const sameButCase = names.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (sameButCase !== undefined) {
    return new AppError(
      "model-not-found",
      `Model "${name}" not found; did you mean "${sameButCase}"? Model names are case-sensitive.`,
      { param: "model" },
    );
  }
  if (options.isSingleFile === true) {
    return new AppError(
      "model-not-found",
      `Model "${name}" not found: this server serves only "${names[0] ?? ""}", the file --models names.`,
      { param: "model" },
    );
  }
  const shown = names.slice(0, maxNamesShown).join(", ");
  const more = names.length > maxNamesShown ? ` and ${names.length - maxNamesShown} more` : "";
  const available = names.length === 0 ? "The folder has no models yet." : `Available: ${shown}${more}.`;
  return new AppError(
    "model-not-found",
    `Model "${name}" not found in ${options.modelsDir}. ${available} ` +
      `Download it with "rawrxd pull <https://…/file.gguf | hf:owner/repo/file.gguf>" ` +
      "or copy a .gguf file into that folder.",
    { param: "model" },
  );
}

/** A name in the folder that is no file the server may open: never opened, refused by name. */
export function unservableFileError(
  name: string,
  result: Extract<LocateResult, { kind: "not-a-file" | "outside-folder" }>,
): AppError {
  if (result.kind === "not-a-file") {
    return new AppError(
      "model-invalid",
      `Model "${name}" is ${result.fileKind} in the models folder, not a regular file; ` +
        "it was not opened. Put a .gguf file under that name, or remove it.",
      { param: "model" },
    );
  }
  return new AppError(
    "forbidden",
    // No folder path: clients would read it redacted as "the models folder the models folder".
    `Model "${name}" is a link to a file outside the models folder; ` +
      "links there must point to files in the same folder. Move the file into the folder instead.",
    { param: "model" },
  );
}
