/**
 * The audit gate on the serving path (ADR 0014): the API opens a ticket per generation before
 * submitting it; the request-end listener records the request's `inference` record with what
 * the ticket knows and keeps the write's promise on it; the API awaits `settled()` before the
 * client's last byte. Concurrent requests share the log's group commit (one fdatasync a batch).
 * Fail-closed: refused while the log cannot be written, and a failed record ends its request
 * with an error instead of a silent success.
 */
import {
  AppError,
  type AuditGate,
  type AuditHealthState,
  type AuditTicket,
  type GenerateRequest,
  type Logger,
  type ServerEvents,
} from "../core/index.js";
import type { AuditEntry, AuditHealth, AuditRecord } from "../ops/index.js";
import { inferenceEntry, requestFacts, type RequestFacts } from "./inference-audit.js";

/** What the gate needs of the AuditLog. */
export interface AuditSink {
  readonly health: AuditHealth;
  record(entry: AuditEntry): Promise<AuditRecord>;
}

export interface AuditGateOptions {
  log: AuditSink;
  isFailClosed: boolean;
  recordsContent: boolean;
  logger: Logger;
}

export function auditUnavailable(): AppError {
  return new AppError(
    "audit-unavailable",
    "The audit log cannot be written, and this server refuses inference it cannot record " +
      "(--audit-fail-closed). Ask its operator to fix the audit folder (disk space, permissions; " +
      "the server log says what failed) and restart the server.",
    { retryAfterSeconds: 60 },
  );
}

class Ticket implements AuditTicket {
  readonly recordsContent: boolean;
  readonly facts: RequestFacts;
  /** Resolves with the write's error, or undefined once the record is on disk. */
  written: Promise<Error | undefined> | undefined;
  #output = "";
  readonly #isFailClosed: boolean;

  constructor(facts: RequestFacts, options: { recordsContent: boolean; isFailClosed: boolean }) {
    this.facts = facts;
    this.recordsContent = options.recordsContent;
    this.#isFailClosed = options.isFailClosed;
  }

  get outputText(): string {
    return this.#output;
  }

  output(text: string): void {
    this.#output += text;
  }

  async settled(): Promise<void> {
    const error = await this.written;
    if (error !== undefined && this.#isFailClosed) throw auditUnavailable();
  }
}

export class RequestAuditGate implements AuditGate {
  readonly #options: AuditGateOptions;
  /** Tickets waiting for their request-end, by request id (a client may reuse an id: a queue each). */
  readonly #waiting = new Map<string, Ticket[]>();

  constructor(options: AuditGateOptions) {
    this.#options = options;
  }

  /** Tickets whose request has not ended yet (for tests: none may be left behind). */
  get openTickets(): number {
    let count = 0;
    for (const tickets of this.#waiting.values()) count += tickets.length;
    return count;
  }

  open(request: GenerateRequest): AuditTicket {
    if (this.#options.isFailClosed && this.#options.log.health.state === "failed") throw auditUnavailable();
    const ticket = new Ticket(requestFacts(request, this.#options.recordsContent), this.#options);
    const tickets = this.#waiting.get(request.id);
    if (tickets === undefined) this.#waiting.set(request.id, [ticket]);
    else tickets.push(ticket);
    return ticket;
  }

  health(): { state: AuditHealthState; isRefusing: boolean } {
    const { state } = this.#options.log.health;
    return { state, isRefusing: this.#options.isFailClosed && state === "failed" };
  }

  /**
   * A request that another cluster node ran (issue #18): its record is in that node's audit
   * chain, and no request-end comes here; drops the ticket opened for it.
   */
  ranElsewhere(requestId: string): void {
    this.#take(requestId);
  }

  /** The request-end listener: appends the request's record and hands its write to the ticket. */
  requestEnded(event: ServerEvents["request-end"]): void {
    const ticket = this.#take(event.requestId);
    const entry = inferenceEntry(
      event,
      ticket === undefined ? undefined : { ...ticket.facts, output: ticket.outputText },
    );
    const written = this.#options.log.record(entry).then(
      () => undefined,
      (error: unknown) => {
        // Not fail-closed: the client is served anyway, so the operator must hear of it loudly.
        this.#options.logger.error("CRITICAL: an inference record could not be written to the audit log", {
          severity: "critical",
          requestId: event.requestId,
          failClosed: this.#options.isFailClosed,
          error: String(error),
        });
        return error instanceof Error ? error : new Error(String(error));
      },
    );
    if (ticket !== undefined) ticket.written = written;
  }

  #take(requestId: string): Ticket | undefined {
    const tickets = this.#waiting.get(requestId);
    const ticket = tickets?.shift();
    if (tickets?.length === 0) this.#waiting.delete(requestId);
    return ticket;
  }
}
