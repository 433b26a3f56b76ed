/**
 * PostgresWitness (issue #18): every signed checkpoint a node makes is queued here and appended,
 * in order, to the cluster's PostgreSQL witness table. Writes never block the audit log or
 * serving: while PostgreSQL is down the queue grows (visible as `pending`), the writer retries
 * with a capped exponential backoff on the time port, and on reconnect drains the queue oldest
 * first. A node id registered with another key stops the witness (`refused`) until restart.
 */
import type { KeyObject } from "node:crypto";
import { systemTime, type TimePort, type Timer } from "../../core/index.js";
import type { Checkpoint } from "./checkpoints.js";
import { connectPg, type WitnessConnection } from "./postgres-connection.js";
import type { WitnessItem } from "./witness-backlog.js";
import { retryDelayMs, type RetryPolicy } from "./witness-retry.js";
import {
  WitnessConflictError,
  WitnessKeyError,
  insertCheckpoint,
  migrateWitnessTables,
  registerNodeKey,
  witnessedSeq,
} from "./witness-table.js";

export interface PostgresWitnessOptions {
  /** postgres://user[:password]@host:port/database — never logged or shown (it may hold a password). */
  url: string;
  nodeId: string;
  publicKey: KeyObject;
  /** The node's audit folder, stored on registration so `verify --cluster` can find it. */
  auditDirectory?: string;
  time?: TimePort;
  retry?: Partial<RetryPolicy>;
  /** Opens a connection; default a pg.Client on `url` (5 s connect timeout). */
  connect?: (url: string) => Promise<WitnessConnection>;
  /**
   * On each (re)connect: the node's signed checkpoints after `afterSeq`, the newest seq the
   * table holds for it (checkpointBacklog on the audit folder), written before the queue. This
   * covers a restart while PostgreSQL was down and a witness turned on for an existing log.
   */
  backlog?: (afterSeq: number) => Promise<WitnessItem[]>;
  /** Called on each change of state (the wiring logs it and records it); synchronous. */
  onStateChange?: (status: PostgresWitnessStatus) => void;
}

export type PostgresWitnessState = "idle" | "writing" | "retrying" | "refused" | "closed";

export interface PostgresWitnessStatus {
  state: PostgresWitnessState;
  /** Checkpoints made but not yet in PostgreSQL. */
  pending: number;
  /** Checkpoints written by this process. */
  written: number;
  /** Seq of the newest checkpoint in PostgreSQL from this process; null before the first. */
  lastWrittenSeq: number | null;
  /** Why the last attempt failed (no URL or password); null after a success. */
  lastError: string | null;
  /** Failed attempts in a row. */
  failures: number;
}

type Queued = WitnessItem;

export class PostgresWitness {
  readonly #options: PostgresWitnessOptions;
  readonly #time: TimePort;
  readonly #retry: RetryPolicy;
  readonly #queue: Queued[] = [];
  #connection: WitnessConnection | undefined;
  #state: PostgresWitnessState = "idle";
  #written = 0;
  #lastWrittenSeq: number | null = null;
  #lastError: string | null = null;
  #failures = 0;
  #retryTimer: Timer | undefined;
  #draining: Promise<void> | undefined;
  #isClosing = false;

  constructor(options: PostgresWitnessOptions) {
    this.#options = options;
    this.#time = options.time ?? systemTime;
    this.#retry = { initialMs: 500, maxMs: 30_000, factor: 2, ...options.retry };
  }

  /** Queues a checkpoint (what AuditLog's `onCheckpoint` calls) and starts writing it. */
  submit(checkpoint: Checkpoint, segment: string): void {
    if (this.#state === "closed") return;
    // Already taken from the backlog (read while this checkpoint was being stored)?
    if ((this.#lastWrittenSeq ?? 0) >= checkpoint.seq) return;
    if (this.#queue.some((item) => item.checkpoint.seq === checkpoint.seq)) return;
    this.#queue.push({ checkpoint, segment });
    this.#kick();
  }

  status(): PostgresWitnessStatus {
    return {
      state: this.#state,
      pending: this.#queue.length,
      written: this.#written,
      lastWrittenSeq: this.#lastWrittenSeq,
      lastError: this.#lastError,
      failures: this.#failures,
    };
  }

  /** Resolves once the current drain attempt has ended (written everything, or failed). */
  async settled(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /**
   * Tries once more to write what is queued (a stop's last checkpoint) for at most
   * `timeoutMs`, then ends the connection. Checkpoints still queued stay only in the node's
   * checkpoints.jsonl (the next start's backlog writes them).
   */
  async close(timeoutMs = 3000): Promise<void> {
    if (this.#state === "closed") return;
    this.#isClosing = true;
    this.#retryTimer?.cancel();
    this.#retryTimer = undefined;
    const lastTry = (async () => {
      await this.settled();
      if (this.#queue.length > 0 && this.#state !== "refused") {
        this.#draining = this.#drain().finally(() => (this.#draining = undefined));
        await this.settled();
      }
    })();
    // A stop never waits long on PostgreSQL: ending the connection fails a query still hanging.
    const abort = new AbortController();
    await Promise.race([lastTry, this.#time.sleep(timeoutMs, abort.signal).catch(() => undefined)]);
    abort.abort();
    this.#setState("closed");
    await this.#dropConnection();
  }

  #kick(): void {
    if (this.#isClosing) return;
    if (this.#draining !== undefined || this.#retryTimer !== undefined) return;
    if (this.#state === "refused" || this.#state === "closed") return;
    this.#draining = this.#drain().finally(() => (this.#draining = undefined));
  }

  async #drain(): Promise<void> {
    this.#setState("writing");
    try {
      const connection = await this.#connected();
      while (this.#queue.length > 0) {
        const next = this.#queue[0]!;
        await insertCheckpoint(connection, next);
        this.#queue.shift();
        this.#written += 1;
        this.#lastWrittenSeq = next.checkpoint.seq;
      }
      this.#failures = 0;
      this.#lastError = null;
      if (this.#state === "writing") this.#setState("idle");
    } catch (error) {
      await this.#failed(error);
    }
  }

  async #connected(): Promise<WitnessConnection> {
    if (this.#connection !== undefined) return this.#connection;
    const connect = this.#options.connect ?? connectPg;
    const connection = await connect(this.#options.url);
    try {
      if (this.#state === "closed") throw new Error("the witness was closed while connecting");
      await migrateWitnessTables(connection);
      await registerNodeKey(connection, {
        nodeId: this.#options.nodeId,
        publicKey: this.#options.publicKey,
        ...(this.#options.auditDirectory === undefined
          ? {}
          : { auditDirectory: this.#options.auditDirectory }),
      });
      if (this.#options.backlog !== undefined)
        this.#enqueueBacklog(
          await this.#options.backlog(await witnessedSeq(connection, this.#options.nodeId)),
        );
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw error;
    }
    this.#connection = connection;
    return connection;
  }

  /** Adds the backlog's checkpoints not queued yet; the queue stays in seq order. */
  #enqueueBacklog(items: readonly WitnessItem[]): void {
    const queued = new Set(this.#queue.map((item) => item.checkpoint.seq));
    const missing = items.filter((item) => !queued.has(item.checkpoint.seq));
    if (missing.length === 0) return;
    this.#queue.push(...missing);
    this.#queue.sort((a, b) => a.checkpoint.seq - b.checkpoint.seq);
  }

  async #failed(error: unknown): Promise<void> {
    this.#failures += 1;
    this.#lastError = describe(error);
    await this.#dropConnection();
    if (error instanceof WitnessKeyError || error instanceof WitnessConflictError) {
      // Retrying cannot help: an operator must look (the status and log say what).
      this.#setState("refused");
      return;
    }
    this.#setState("retrying");
    if (this.#isClosing) return;
    const delayMs = retryDelayMs(this.#failures, this.#retry);
    this.#retryTimer = this.#time
      .setTimeout(() => {
        this.#retryTimer = undefined;
        this.#kick();
      }, delayMs)
      .unref();
  }

  async #dropConnection(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.end().catch(() => undefined);
  }

  #setState(state: PostgresWitnessState): void {
    if (this.#state === "closed") return;
    const changed = state !== this.#state;
    this.#state = state;
    if (changed) this.#options.onStateChange?.(this.status());
  }
}

/** The error's message without anything that could carry the URL (pg never puts it in messages). */
function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === undefined || error.message.includes(code) ? error.message : `${error.message} (${code})`;
  }
  return String(error);
}
