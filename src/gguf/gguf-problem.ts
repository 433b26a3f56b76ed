import { AppError } from "../core/index.js";

const replaceAdvice = "Re-download or replace the file.";

/**
 * One thing wrong with a GGUF file, raised inside the reader, which knows no path.
 * `readGgufHeader` turns it into an AppError("model-invalid") that names the file.
 */
export class GgufProblem extends Error {
  override readonly name = "GgufProblem";
  readonly advice: string;

  constructor(problem: string, advice: string = replaceAdvice) {
    super(problem);
    this.advice = advice;
  }
}

export function toInvalidModelError(path: string, problem: GgufProblem): AppError {
  return new AppError(
    "model-invalid",
    `Model file ${path} is not a valid GGUF: ${problem.message}. ${problem.advice}`,
    { cause: problem },
  );
}

/** Like Node's own aborted fs calls: name "AbortError", so core's toAppError maps it to "cancelled". */
export function createAbortError(path: string, signal: AbortSignal): Error {
  const error = new Error(`Reading the GGUF header of ${path} was aborted.`, { cause: signal.reason });
  error.name = "AbortError";
  return error;
}
