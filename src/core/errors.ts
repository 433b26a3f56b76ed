/**
 * The one error base of RawrXD. Every component throws AppError with a stable `code`;
 * only src/api maps codes to HTTP statuses (see api/error-status.ts).
 */
export const errorCodes = [
  "bad-request",
  "unauthorized",
  "forbidden",
  "model-not-found",
  "model-invalid",
  "model-load-failed",
  "prompt-too-long",
  "tools-not-supported",
  "insufficient-memory",
  "insufficient-storage",
  "body-too-large",
  "headers-too-large",
  "request-timeout",
  "queue-full",
  "rate-limited",
  "queue-timeout",
  "cancelled",
  "runner-crashed",
  "runner-failed",
  "shutting-down",
  "audit-unavailable",
  "cluster-unavailable",
  "store-unavailable",
  "not-found",
  "method-not-allowed",
  "conflict",
  "internal",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (queue full, shutting down). */
  retryAfterSeconds?: number;
  /** Name of the offending request field, when there is one. */
  param?: string;
}

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly param: string | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.param = options.param;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Turns any thrown value into an AppError, keeping the original as `cause`. */
export function toAppError(value: unknown): AppError {
  if (value instanceof AppError) return value;
  if (value instanceof Error && value.name === "AbortError") {
    return new AppError("cancelled", "The request was cancelled.", { cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new AppError("internal", `Internal error: ${message}`, { cause: value });
}
