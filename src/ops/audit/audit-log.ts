/**
 * AuditLog (the ComplianceLogger): appends hash-chained records to segment files with group
 * commit (one write + fdatasync per batch; `record()` resolves once its record is on disk),
 * rolls segments by size or UTC day, signs a checkpoint every N records or M ms, repairs a
 * torn last line at open, and purges whole sealed segments past retention. One writer per
 * folder: open takes `audit/.lock` (writer-lock.ts), close releases it.
 * Over 300 lines on purpose: batching, rolling and checkpoint cadence share the same chain
 * state (seq, head, written seq), which would otherwise have to become a public mutable object.
 */
import { chmod, mkdir, unlink } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { systemTime, type TimePort, type Timer } from "../../core/index.js";
import { openSegmentFile, type AuditSegmentFile, type OpenSegmentFile } from "./audit-files.js";
import { buildRecordLine, type AuditEntry, type AuditRecord } from "./audit-record.js";
import { appendCheckpoint, signCheckpoint, type Checkpoint } from "./checkpoints.js";
import { recoverState, type OpenState } from "./recover-state.js";
import { expiredSegments } from "./retention.js";
import { segmentName, utcDay } from "./segment-files.js";
import type { AuditSigningKey } from "./signing-key.js";
import { acquireWriterLock, type WriterKind, type WriterLock } from "./writer-lock.js";

export interface AuditLogOptions {
  /** The audit folder (RAWRXD_HOME/audit). */
  directory: string;
  signingKey: AuditSigningKey;
  /** Names this server in every record (ARCHITECTURE: every record carries its node id). */
  nodeId: string;
  time?: TimePort;
  /** A segment rolls once it holds this many bytes. Default 64 MiB. */
  maxSegmentBytes?: number;
  /** A checkpoint after this many new records. Default 1000. */
  checkpointEveryRecords?: number;
  /** A checkpoint at least this often while records arrive. Default 60 000 ms. */
  checkpointIntervalMs?: number;
  /** A second folder that receives every checkpoint too (`--audit-witness DIR`). */
  witnessDirectory?: string;
  /** Who writes, named in `audit/.lock`. Default "server". */
  writer?: WriterKind;
  /** How long open waits while a `cli` writer holds the lock for its one record. Default 0. */
  waitForCliMs?: number;
  /** Opens segment files for appending; default node:fs. Tests inject failing writers here. */
  openSegmentFile?: OpenSegmentFile;
  /** Called on every change of `health` (writable, degraded, failed), synchronously. */
  onHealthChange?: (health: AuditHealth) => void;
  /**
   * Called with every signed checkpoint once it is in `checkpoints.jsonl`, and the segment
   * file holding record `seq` (the PostgreSQL witness queues it from here). Synchronous.
   */
  onCheckpoint?: (checkpoint: Checkpoint, segment: string) => void;
}

export type AuditHealth =
  { state: "writable" } | { state: "degraded"; reason: string } | { state: "failed"; reason: string };

interface Pending {
  record: AuditRecord;
  line: string;
  segmentIndex: number;
  day: string;
  resolve: (record: AuditRecord) => void;
  reject: (error: Error) => void;
}

interface OpenSegment {
  index: number;
  day: string;
  handle: AuditSegmentFile;
  path: string;
}

export class AuditWriteError extends Error {
  override readonly name = "AuditWriteError";
}

export class AuditLog {
  readonly #options: Required<
    Omit<AuditLogOptions, "witnessDirectory" | "writer" | "waitForCliMs" | "onHealthChange" | "onCheckpoint">
  > &
    Pick<AuditLogOptions, "witnessDirectory" | "onHealthChange" | "onCheckpoint">;
  #seq: number;
  #head: string;
  #lastTimeMs: number;
  /** Where the next record goes (decided when it is recorded, so batches split deterministically). */
  #plannedIndex: number;
  #plannedDay: string;
  #plannedBytes: number;
  #segment: OpenSegment | undefined;
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #writtenSeq: number;
  #writtenHead: string;
  /** The segment file holding record `#writtenSeq`. */
  #writtenSegment: string;
  #checkpointSeq: number;
  #health: AuditHealth = { state: "writable" };
  #timer: Timer | undefined;
  #isClosed = false;
  #batches = 0;
  #timerCheckpoint: Promise<void> | undefined;
  /** The first batch of each session is signed at once, so a log with records always has a checkpoint. */
  #hasSignedThisSession = false;
  /** The newest segment found at open: sealed (read-only) once the log rolls past it. */
  readonly #recoveredSegmentPath: string | undefined;
  readonly #lock: WriterLock;

  private constructor(options: AuditLogOptions, state: OpenState, lock: WriterLock) {
    this.#lock = lock;
    this.#options = {
      time: systemTime,
      maxSegmentBytes: 64 * 1024 * 1024,
      checkpointEveryRecords: 1000,
      checkpointIntervalMs: 60_000,
      openSegmentFile,
      ...options,
    };
    this.#seq = state.seq;
    this.#head = state.head;
    this.#lastTimeMs = state.lastTimeMs;
    this.#plannedIndex = state.segmentIndex;
    this.#plannedDay = state.day;
    this.#plannedBytes = state.segmentBytes;
    this.#writtenSeq = state.seq;
    this.#writtenHead = state.head;
    this.#writtenSegment = segmentName(state.segmentIndex, state.day);
    this.#recoveredSegmentPath = state.segmentPath;
    this.#checkpointSeq = state.seq;
    this.#timer = this.#options.time
      .setInterval(() => this.#checkpointOnTimer(), this.#options.checkpointIntervalMs)
      .unref();
  }

  /**
   * Opens (or creates) the log in `options.directory`: takes the writer lock (AuditLockedError
   * while another live process holds it), then repairs a torn last line.
   */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    await mkdir(options.directory, { recursive: true, mode: 0o700 });
    const lock = await acquireWriterLock(options.directory, {
      kind: options.writer ?? "server",
      time: options.time ?? systemTime,
      waitForCliMs: options.waitForCliMs,
    });
    let opened: Awaited<ReturnType<typeof recoverState>>;
    let witnessError: unknown;
    try {
      if (options.witnessDirectory !== undefined)
        // A witness that cannot be reached degrades the log; it never stops it.
        await mkdir(options.witnessDirectory, { recursive: true }).catch(
          (error: unknown) => (witnessError = error),
        );
      opened = await recoverState(options.directory);
    } catch (error) {
      await lock.release();
      throw error;
    }
    const { state, repair } = opened;
    const log = new AuditLog(options, state, lock);
    if (witnessError !== undefined) log.#degrade("witness", witnessError);
    if (lock.tookOver !== undefined) {
      const stale = lock.tookOver;
      await log.record({
        type: "system",
        action: "writer-lock-taken-over",
        level: "warning",
        object: "audit/.lock",
        details: {
          stalePid: stale.pid,
          staleKind: stale.kind,
          staleHost: stale.host,
          staleSince: stale.since,
        },
      });
    }
    if (repair !== undefined) {
      await log.record({
        type: "system",
        action: "torn-tail-repaired",
        level: "warning",
        object: repair.segment,
        details: {
          cutBytes: repair.cutBytes,
          cutSha256: createHash("sha256").update(repair.cutText).digest("hex"),
          lastIntactSeq: state.seq,
        },
      });
    }
    return log;
  }

  /** Sequence number and hash of the newest record (what the next checkpoint would sign). */
  get head(): { seq: number; hash: string } {
    return { seq: this.#seq, hash: this.#head };
  }

  /** For fail-closed serving: `writable` means records are reaching the disk. */
  get health(): AuditHealth {
    return this.#health;
  }

  /** Batches written so far: each cost one write and one fdatasync per segment it touched. */
  get batchesWritten(): number {
    return this.#batches;
  }

  get isWritable(): boolean {
    return this.#health.state !== "failed" && !this.#isClosed;
  }

  /**
   * Appends a record; resolves with it once it is on disk (fsynced with its batch). The chain
   * order is the call order. Rejects with AuditWriteError when the log cannot be written.
   */
  record(entry: AuditEntry): Promise<AuditRecord> {
    if (this.#isClosed) return Promise.reject(new AuditWriteError("The audit log is closed."));
    if (this.#health.state === "failed")
      return Promise.reject(new AuditWriteError(`The audit log cannot be written: ${this.#health.reason}`));
    const timeMs = this.#options.time.wallNow();
    if (timeMs < this.#lastTimeMs && entry.action !== "clock-backwards") {
      // Records keep the wall time as read, so the step shows in the log and a record says why.
      void this.record({
        type: "system",
        action: "clock-backwards",
        level: "warning",
        details: {
          previousTime: new Date(this.#lastTimeMs).toISOString(),
          stepMs: this.#lastTimeMs - timeMs,
        },
      }).catch(() => undefined);
    }
    const { record, line } = buildRecordLine(entry, {
      seq: this.#seq + 1,
      prev: this.#head,
      timeMs,
      node: this.#options.nodeId,
    });
    this.#seq = record.seq;
    this.#head = record.hash;
    this.#lastTimeMs = Math.max(this.#lastTimeMs, timeMs);
    const day = utcDay(timeMs);
    const bytes = Buffer.byteLength(line);
    if (
      this.#plannedIndex === 0 ||
      day !== this.#plannedDay ||
      this.#plannedBytes >= this.#options.maxSegmentBytes
    ) {
      this.#plannedIndex += 1;
      this.#plannedDay = day;
      this.#plannedBytes = 0;
    }
    this.#plannedBytes += bytes;
    return new Promise<AuditRecord>((resolve, reject) => {
      this.#pending.push({ record, line, segmentIndex: this.#plannedIndex, day, resolve, reject });
      this.#flushing ??= this.#flushLoop();
    });
  }

  /** Resolves when every record recorded so far is on disk (and a checkpoint the timer began is stored). */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    await this.#timerCheckpoint;
  }

  /** Signs and stores a checkpoint of the current on-disk head now (no-op when nothing is new). */
  async checkpoint(): Promise<void> {
    await this.flush();
    await this.#writeCheckpoint();
  }

  /** Flushes, signs a last checkpoint and closes the open segment. Idempotent. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    await this.flush();
    this.#isClosed = true;
    this.#timer?.cancel();
    try {
      if (this.#health.state !== "failed") await this.#writeCheckpoint();
      await this.#segment?.handle.close();
      this.#segment = undefined;
    } finally {
      await this.#lock.release();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Deletes whole sealed segments whose newest record is older than `retentionMs`, oldest
   * first and without gaps. A `data` record carrying the purged range's last hash goes to
   * disk before any file is removed, so verify can tell this purge from a deletion.
   */
  async purgeExpired(retentionMs: number): Promise<{ segments: string[] }> {
    await this.flush();
    const purged = await expiredSegments(this.#options.directory, {
      belowIndex: this.#plannedIndex,
      cutoffMs: this.#options.time.wallNow() - retentionMs,
    });
    const first = purged[0];
    const last = purged.at(-1);
    if (first === undefined || last === undefined) return { segments: [] };
    await this.record({
      type: "data",
      action: "retention-purge",
      object: "audit-log",
      details: {
        fromSeq: first.first.seq,
        toSeq: last.last.seq,
        lastHash: last.last.hash,
        segments: purged.map((segment) => segment.name),
        retentionDays: Math.round(retentionMs / 86_400_000),
      },
    });
    for (const segment of purged) await unlink(segment.path);
    return { segments: purged.map((segment) => segment.name) };
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        try {
          await this.#writeBatch(batch);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          this.#setHealth({ state: "failed", reason });
          const failure = new AuditWriteError(`The audit log cannot be written: ${reason}`, { cause: error });
          for (const item of [...batch, ...this.#pending]) item.reject(failure);
          this.#pending = [];
          return;
        }
        for (const item of batch) item.resolve(item.record);
        if (
          !this.#hasSignedThisSession ||
          this.#writtenSeq - this.#checkpointSeq >= this.#options.checkpointEveryRecords
        )
          await this.#writeCheckpoint().catch((error: unknown) => this.#degrade("checkpoint", error));
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #writeBatch(batch: Pending[]): Promise<void> {
    this.#batches += 1;
    let start = 0;
    while (start < batch.length) {
      const { segmentIndex, day } = batch[start]!;
      let end = start;
      while (end < batch.length && batch[end]!.segmentIndex === segmentIndex) end += 1;
      const segment = await this.#segmentFor(segmentIndex, day);
      await segment.handle.write(
        batch
          .slice(start, end)
          .map((item) => item.line)
          .join(""),
      );
      await segment.handle.datasync();
      this.#writtenSeq = batch[end - 1]!.record.seq;
      this.#writtenHead = batch[end - 1]!.record.hash;
      this.#writtenSegment = segmentName(segmentIndex, day);
      start = end;
    }
  }

  async #segmentFor(index: number, day: string): Promise<OpenSegment> {
    if (this.#segment?.index === index) return this.#segment;
    if (this.#segment !== undefined) {
      // Sealed: never written again; read-only on disk says so to anyone who looks.
      await this.#segment.handle.close();
      await chmod(this.#segment.path, 0o444);
    } else if (
      this.#recoveredSegmentPath !== undefined &&
      !this.#recoveredSegmentPath.endsWith(segmentName(index, day))
    ) {
      await chmod(this.#recoveredSegmentPath, 0o444);
    }
    const path = join(this.#options.directory, segmentName(index, day));
    this.#segment = { index, day, path, handle: await this.#options.openSegmentFile(path) };
    return this.#segment;
  }

  async #writeCheckpoint(): Promise<void> {
    if (this.#writtenSeq <= this.#checkpointSeq || this.#writtenSeq === 0) return;
    const seq = this.#writtenSeq;
    const head = this.#writtenHead;
    const segment = this.#writtenSegment;
    const checkpoint = signCheckpoint(
      {
        seq,
        head,
        time: new Date(this.#options.time.wallNow()).toISOString(),
        node: this.#options.nodeId,
        keyId: this.#options.signingKey.keyId,
      },
      this.#options.signingKey,
    );
    this.#checkpointSeq = seq;
    this.#hasSignedThisSession = true;
    await appendCheckpoint(this.#options.directory, checkpoint);
    this.#options.onCheckpoint?.(checkpoint, segment);
    if (this.#options.witnessDirectory === undefined) return;
    try {
      await appendCheckpoint(this.#options.witnessDirectory, checkpoint);
      if (this.#health.state === "degraded") this.#setHealth({ state: "writable" });
    } catch (error) {
      this.#degrade("witness", error);
    }
  }

  #degrade(what: string, error: unknown): void {
    if (this.#health.state === "failed") return;
    this.#setHealth({
      state: "degraded",
      reason: `${what}: ${error instanceof Error ? error.message : String(error)}`,
    });
  }

  #setHealth(health: AuditHealth): void {
    const changed = health.state !== this.#health.state;
    this.#health = health;
    if (changed) this.#options.onHealthChange?.(health);
  }

  #checkpointOnTimer(): void {
    if (this.#isClosed || this.#writtenSeq <= this.#checkpointSeq) return;
    this.#timerCheckpoint = this.#writeCheckpoint()
      .catch((error: unknown) => this.#degrade("checkpoint", error))
      .finally(() => (this.#timerCheckpoint = undefined));
  }
}
