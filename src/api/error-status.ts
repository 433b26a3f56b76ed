/**
 * The one table from error codes to HTTP statuses (STYLE.md §5), and each dialect's error body:
 * OpenAI `{error: {message, type, param, code}}` on /v1, Ollama `{error: "..."}` on /api.
 */
import type { ErrorCode } from "../core/index.js";
import { AppError, toAppError } from "../core/index.js";

export type Dialect = "openai" | "ollama" | "native";

const statusByCode: Record<ErrorCode, number> = {
  "bad-request": 400,
  unauthorized: 401,
  forbidden: 403,
  "model-not-found": 404,
  "not-found": 404,
  "method-not-allowed": 405,
  // Another operation holds the resource (a backup already running): retry once it ends.
  conflict: 409,
  "body-too-large": 413,
  // Refused by Node's HTTP parser before any route runs (src/app/http-client-errors.ts).
  "headers-too-large": 431,
  // The request (headers, or headers and body) did not arrive within --header-timeout / --request-timeout.
  "request-timeout": 408,
  "prompt-too-long": 400,
  // The model's chat template has no tool calling: answering in text would silently drop the tools.
  "tools-not-supported": 400,
  // It will not fit however long the client waits: not a retryable 503.
  "insufficient-memory": 500,
  // The disk under the data or backup folder is full (WebDAV's 507): an operator must free space.
  "insufficient-storage": 507,
  // Queue full: Ollama clients expect 503; the OpenAI SDK retries 429 with Retry-After.
  "queue-full": 503,
  "queue-timeout": 503,
  "rate-limited": 429,
  "shutting-down": 503,
  // Fail-closed: nothing runs unrecorded; an operator must fix the audit folder first.
  "audit-unavailable": 503,
  // --cluster: Redis (the shared queue) cannot be reached; admission resumes once it is back.
  "cluster-unavailable": 503,
  // The shared PostgreSQL store (--store) is unreachable: key changes wait for it.
  "store-unavailable": 503,
  cancelled: 499,
  // The file under that name cannot be served (a broken or hostile GGUF, a FIFO, a directory):
  // the request named it, so a client error the client can act on, not a server fault (#15).
  "model-invalid": 422,
  "model-load-failed": 500,
  "runner-crashed": 500,
  "runner-failed": 500,
  internal: 500,
};

export function statusFor(error: AppError, dialect: Dialect): number {
  if (error.code === "queue-full" && dialect === "openai") return 429;
  return statusByCode[error.code];
}

function openAiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

export function errorBody(error: AppError, dialect: Dialect): unknown {
  if (dialect === "ollama") return { error: error.message };
  const status = statusFor(error, dialect);
  return {
    error: { message: error.message, type: openAiType(status), param: error.param ?? null, code: error.code },
  };
}

export interface ErrorResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export function errorResponse(value: unknown, dialect: Dialect): ErrorResponse {
  const error = toAppError(value);
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers["Retry-After"] = String(error.retryAfterSeconds);
  return { status: statusFor(error, dialect), body: errorBody(error, dialect), headers };
}

export function dialectOf(path: string): Dialect {
  if (path.startsWith("/v1/")) return "openai";
  if (path.startsWith("/api/")) return "ollama";
  return "native";
}

export { AppError };
