/** Errors of `pull` downloads: each names the URL, what went wrong and what to do next. */
import { STATUS_CODES } from "node:http";
import { AppError, type ErrorCode } from "../core/index.js";
import { describeUrl } from "./pull-source.js";

export function httpStatusError(url: string, response: Response): AppError {
  const statusText = response.statusText || STATUS_CODES[response.status] || "";
  const code: ErrorCode =
    response.status === 404 || response.status === 410
      ? "not-found"
      : response.status === 401
        ? "unauthorized"
        : response.status === 403
          ? "forbidden"
          : "internal";
  const hint =
    response.status === 401 || response.status === 403
      ? " The file may be private or gated: set HF_TOKEN to an access token that can read it."
      : response.status === 404 || response.status === 410
        ? " Check the URL (for Hugging Face: owner, repository, file path and revision)."
        : " Try again later.";
  const status = `HTTP ${response.status}${statusText === "" ? "" : " " + statusText}`;
  return new AppError(code, `Download of ${describeUrl(url)} failed: ${status}.${hint}`);
}

export function unreachableError(url: string, error: unknown): AppError {
  return new AppError(
    "internal",
    `Download of ${describeUrl(url)} failed: ${describeNetworkError(error)}. Check the address and your network, then pull again.`,
    { cause: error },
  );
}

export function interruptedError(
  url: string,
  details: { error: unknown; downloadedBytes: number; partialPath: string },
): AppError {
  return new AppError(
    "internal",
    `Download of ${describeUrl(url)} was interrupted after ${details.downloadedBytes} bytes ` +
      `(${describeNetworkError(details.error)}). The partial file ${details.partialPath} is kept; ` +
      "run the same pull again to resume.",
    { cause: details.error },
  );
}

/** `fetch failed` says nothing; its cause (`connect ECONNREFUSED 127.0.0.1:80`) does. */
export function describeNetworkError(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current.message !== "" && current.message !== "fetch failed") messages.push(current.message);
    current = current.cause;
  }
  return messages.length === 0 ? String(error) : messages.join(": ");
}
