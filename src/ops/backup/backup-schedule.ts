/**
 * The built-in schedule (default: incremental every 15 minutes — the RPO — differential hourly,
 * full daily), on the time port. When several kinds are due at once the most complete one runs
 * (full > differential > incremental) and covers the others. A slot that passes without its
 * backup (the previous one still running, the process asleep or down) is a `backup-missed`
 * event and a warning, never silent. After each scheduled full, retention prunes.
 */
import type { EventBus, Logger, TimePort, Timer } from "../../core/index.js";
import type { BackupManager } from "./backup-manager.js";
import type { BackupKind } from "./manifest.js";
import type { RetentionPolicy } from "./prune-backups.js";

export interface BackupScheduleOptions {
  manager: Pick<BackupManager, "create" | "list" | "prune" | "verify">;
  time: TimePort;
  /** Milliseconds between backups of each kind; 0 turns that kind off. */
  intervalsMs: Record<BackupKind, number>;
  /** A kind never backed up before runs this long after start (not during model loads at boot). Default 60 000. */
  initialDelayMs?: number;
  /** Pruned after each scheduled full; none: never pruned by the schedule. */
  retention?: RetentionPolicy;
  events?: EventBus;
  logger?: Logger;
}

/** Most complete first: a full covers a due differential and incremental. */
const precedence: readonly BackupKind[] = ["full", "differential", "incremental"];

export class BackupSchedule {
  readonly #options: BackupScheduleOptions;
  /**
   * When each kind is next due, on the monotonic clock: a wall-clock step (NTP, an operator
   * fixing the date) neither stretches the RPO nor counts as missed backups.
   */
  readonly #nextDueMs = new Map<BackupKind, number>();
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #isClosed = false;

  constructor(options: BackupScheduleOptions) {
    this.#options = options;
  }

  /** Reads when each kind last succeeded and arms the timer; a kind overdue at start runs at once. */
  async start(): Promise<void> {
    const nowMs = this.#options.time.wallNow();
    const complete = (await this.#options.manager.list()).filter((entry) => entry.status === "complete");
    // Wall time only to read the catalogue's timestamps, once; from here on the monotonic clock.
    const monotonicAtStart = this.#options.time.monotonicNow();
    for (const kind of precedence) {
      const intervalMs = this.#options.intervalsMs[kind];
      if (intervalMs <= 0) continue;
      const last = complete.filter((entry) => entry.kind === kind).at(-1);
      const dueMs =
        last === undefined ? nowMs + (this.#options.initialDelayMs ?? 60_000) : last.createdAtMs + intervalMs;
      if (last !== undefined && nowMs - dueMs >= intervalMs)
        this.#missed(kind, dueMs, "the server was not running when it was due");
      this.#nextDueMs.set(kind, monotonicAtStart + Math.min(dueMs - nowMs, intervalMs));
    }
    this.#arm();
  }

  /** Resolves once the backup in progress (if any) has ended. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    this.#timer?.cancel();
    await this.idle();
  }

  #arm(): void {
    if (this.#isClosed || this.#nextDueMs.size === 0) return;
    const nextMs = Math.min(...this.#nextDueMs.values());
    this.#timer?.cancel();
    this.#timer = this.#options.time
      .setTimeout(() => this.#tick(), Math.max(0, nextMs - this.#options.time.monotonicNow()))
      .unref();
  }

  #tick(): void {
    const nowMs = this.#options.time.monotonicNow();
    const due = precedence.filter((kind) => (this.#nextDueMs.get(kind) ?? Infinity) <= nowMs);
    for (const kind of due) {
      const intervalMs = this.#options.intervalsMs[kind];
      let dueMs = this.#nextDueMs.get(kind)!;
      // Slots that passed entirely (a suspended process, a clock jump): each one is a missed backup.
      while (dueMs + intervalMs <= nowMs) {
        const dueAtMs = this.#wallOf(dueMs);
        this.#missed(
          kind,
          dueAtMs,
          `it was due at ${new Date(dueAtMs).toISOString()} and the schedule ran late`,
        );
        dueMs += intervalMs;
      }
      this.#nextDueMs.set(kind, dueMs + intervalMs);
    }
    const kind = due[0];
    if (kind !== undefined) {
      if (this.#running !== undefined)
        this.#missed(kind, this.#wallOf(nowMs), "the previous backup was still running");
      else this.#running = this.#run(kind).finally(() => (this.#running = undefined));
    }
    this.#arm();
  }

  async #run(requested: BackupKind): Promise<void> {
    const { manager, logger } = this.#options;
    try {
      // No full yet, or the newest backup cannot be trusted as a parent: start a new chain.
      const entries = await manager.list();
      const latest = entries.filter((entry) => entry.status !== "failed").at(-1);
      const hasFull = entries.some((entry) => entry.kind === "full" && entry.status === "complete");
      const kind = hasFull && latest?.status === "complete" ? requested : "full";
      if (kind !== requested)
        logger?.warn("Scheduled backup made a full instead", {
          requested,
          reason: hasFull
            ? `the newest backup ${latest?.id ?? ""} is ${latest?.status ?? "missing"}`
            : "there is no full backup yet",
        });
      const manifest = await manager.create(kind, { scheduled: true });
      // Each scheduled point is checked at once (signatures, chain, chunks present): a chain of verified backups.
      const report = await manager.verify({ ids: [manifest.id] });
      if (report.ok)
        logger?.info("Backup done", {
          id: manifest.id,
          kind,
          storedBytes: manifest.storedBytes,
          ms: manifest.durationMs,
        });
      else
        logger?.warn("Backup made but does not verify", {
          id: manifest.id,
          problems: report.problems.map((problem) => problem.message),
        });
      if (kind === "full" && this.#options.retention !== undefined)
        await manager.prune(this.#options.retention);
    } catch (error) {
      // backup-end (ok: false) is on the bus already; the operator sees the warning too.
      logger?.warn("Scheduled backup failed", {
        kind: requested,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** The wall time (for the event and the log) of a monotonic reading. */
  #wallOf(monotonicMs: number): number {
    const { time } = this.#options;
    return time.wallNow() - (time.monotonicNow() - monotonicMs);
  }

  #missed(kind: BackupKind, dueAtMs: number, reason: string): void {
    this.#options.logger?.warn("Backup missed", { kind, dueAt: new Date(dueAtMs).toISOString(), reason });
    this.#options.events?.emit("backup-missed", { kind, dueAtMs, reason });
  }
}
