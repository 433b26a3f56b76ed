/**
 * The audit log on the serving path (issue #11): its health events, and the gate the API passes
 * each generation through so that a request's audit record is on disk before its last byte.
 * Implemented in src/app (audit-wiring); the API never imports ops/.
 */
import type { GenerateRequest } from "./inference.js";

export type AuditHealthState = "writable" | "degraded" | "failed";

export interface AuditEvents {
  /**
   * The audit log's health changed: `degraded` (a checkpoint or the witness could not be
   * written; records still reach the disk) or `failed` (records cannot be written). The reason
   * may name server paths: for logs and operators, never for HTTP clients.
   */
  "audit-health": { state: AuditHealthState; reason?: string };
}

export interface AuditGate {
  /**
   * Opens the audit of one generation, just before it is submitted. Throws AppError
   * `audit-unavailable` when the server is fail-closed and the log cannot be written.
   */
  open(request: GenerateRequest): AuditTicket;
  /** The log's state, for /health and /ready; `isRefusing`: inference is refused (fail-closed). */
  health(): { state: AuditHealthState; isRefusing: boolean };
}

export interface AuditTicket {
  /** True with --audit-content: pass the generated text to `output` as it goes out. */
  readonly recordsContent: boolean;
  output(text: string): void;
  /**
   * Resolves once the request's inference record is on disk (at once while it has none yet).
   * Rejects with AppError `audit-unavailable` when fail-closed and that record failed.
   */
  settled(): Promise<void>;
}
