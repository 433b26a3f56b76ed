/**
 * Model names are file names inside the models folder. These checks run before any path is
 * built from a name, so a request can never reach outside that folder.
 */
import { AppError } from "../core/index.js";

export const modelFileExtension = ".gguf";
export const partialFileExtension = ".partial";
const maxNameLength = 255;

/**
 * Turns what a client sent (`llama:latest`, `llama.gguf`, `llama`) into the model's name, or
 * throws AppError "bad-request" when the name could address anything but a file in the folder.
 */
export function normalizeModelName(requested: string): string {
  let name = requested;
  if (name.endsWith(":latest")) name = name.slice(0, -":latest".length);
  if (name.endsWith(modelFileExtension)) name = name.slice(0, -modelFileExtension.length);
  assertSafeModelName(name, requested);
  return name;
}

/** Throws AppError "bad-request" unless `name` is a plain file name (without .gguf). */
export function assertSafeModelName(name: string, requested: string = name): void {
  const problem = findNameProblem(name);
  if (problem === undefined) return;
  throw new AppError(
    "bad-request",
    `Model name ${JSON.stringify(requested)} is not allowed: ${problem}. ` +
      "Names are file names inside the models folder, without path separators.",
    { param: "model" },
  );
}

function findNameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > maxNameLength) return `it is longer than ${maxNameLength} characters`;
  if (name.includes("\0")) return "it contains a NUL character";
  if (name.includes("/") || name.includes("\\")) return "it contains a path separator";
  if (name.includes("..")) return 'it contains ".."';
  if (/^[A-Za-z]:/.test(name)) return "it looks like a drive path";
  return undefined;
}

/**
 * Derives a model name from a downloaded file's name: the last path segment without `.gguf`,
 * reduced to `[A-Za-z0-9._-]`. Returns undefined when nothing usable is left.
 */
export function modelNameFromFileName(fileName: string): string | undefined {
  let decoded = fileName;
  try {
    decoded = decodeURIComponent(fileName);
  } catch {
    // A malformed escape is kept literally; sanitising below makes it safe either way.
  }
  const withoutExtension = decoded.toLowerCase().endsWith(modelFileExtension)
    ? decoded.slice(0, -modelFileExtension.length)
    : decoded;
  const sanitized = withoutExtension
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[.-]+/, "")
    .slice(0, maxNameLength);
  return sanitized.length === 0 ? undefined : sanitized;
}

/** True for names `list()` shows: `*.gguf`, not hidden. `x.gguf.partial` does not match. */
export function isModelFileName(fileName: string): boolean {
  return (
    fileName.endsWith(modelFileExtension) &&
    fileName.length > modelFileExtension.length &&
    !fileName.startsWith(".")
  );
}
