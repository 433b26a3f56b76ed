/**
 * One writer per audit folder: `audit/.lock`, created whole or not at all (createFileExclusively:
 * a half-written lock read as unreadable would be taken over), holds the writer's pid, its
 * process start time (Linux /proc, so a reused pid is not mistaken for the holder), host and
 * kind (`server` or `cli`). Two writers appending to one folder would fork the hash chain.
 * A lock whose process is gone (kill -9, power loss) is stale: the next writer takes it over
 * and says so in a `system` record. Released on close.
 */
import { readFileSync } from "node:fs";
import { readFile, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { createFileExclusively, removeFileIfUnchanged, type TimePort } from "../../core/index.js";

export const lockFileName = ".lock";

export type WriterKind = "server" | "cli";

export interface LockHolder {
  pid: number;
  /** Process start time in clock ticks since boot (Linux); null where unknown. */
  startTicks: string | null;
  host: string;
  kind: WriterKind;
  /** UTC ISO time the lock was taken. */
  since: string;
}

export class AuditLockedError extends Error {
  override readonly name = "AuditLockedError";
  constructor(
    readonly holder: LockHolder,
    directory: string,
  ) {
    super(
      `The audit log in ${directory} is held by another writer: ${holder.kind} pid ${holder.pid} on ${holder.host} since ${holder.since}. ` +
        `Only one process may write it; stop that process, or hand records to it (the CLI does so through audit/inbox/).`,
    );
  }
}

export interface WriterLock {
  /** The stale lock this one replaced (its process had ended), to be put on record. */
  readonly tookOver: LockHolder | undefined;
  release(): Promise<void>;
}

export interface AcquireOptions {
  kind: WriterKind;
  time: TimePort;
  /** How long to wait while a `cli` writer holds the lock (it holds it for one record). Default 0. */
  waitForCliMs?: number;
}

export async function acquireWriterLock(directory: string, options: AcquireOptions): Promise<WriterLock> {
  const path = join(directory, lockFileName);
  const me: LockHolder = {
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    host: hostname(),
    kind: options.kind,
    since: new Date(options.time.wallNow()).toISOString(),
  };
  const text = JSON.stringify(me) + "\n";
  const deadline = options.time.monotonicNow() + (options.waitForCliMs ?? 0);
  let tookOver: LockHolder | undefined;
  for (;;) {
    if (await createFileExclusively(path, text)) return { tookOver, release: () => releaseLock(path, text) };
    const existing = await readFile(path, "utf8").catch(() => undefined);
    if (existing === undefined) continue; // released between our attempt and the read
    const holder = parseHolder(existing);
    if (holder === undefined || !isAlive(holder)) {
      if (await removeFileIfUnchanged(path, existing)) tookOver = holder ?? unreadableHolder;
      continue;
    }
    if (holder.kind !== "cli" || options.time.monotonicNow() >= deadline)
      throw new AuditLockedError(holder, directory);
    await options.time.sleep(50);
  }
}

const unreadableHolder: LockHolder = { pid: 0, startTicks: null, host: "?", kind: "server", since: "?" };

async function releaseLock(path: string, text: string): Promise<void> {
  // Only our own lock: a lock someone else took over (after we were judged gone) stays theirs.
  const current = await readFile(path, "utf8").catch(() => undefined);
  if (current === text) await unlink(path).catch(() => undefined);
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== "number" || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return {
      pid: value.pid,
      startTicks: typeof value.startTicks === "string" ? value.startTicks : null,
      host: typeof value.host === "string" ? value.host : "?",
      kind: value.kind === "cli" ? "cli" : "server",
      since: typeof value.since === "string" ? value.since : "?",
    };
  } catch {
    return undefined;
  }
}

/** Another host's process cannot be checked from here: its lock counts as held. */
export function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const ticks = processStartTicks(holder.pid);
  return holder.startTicks === null || ticks === null || ticks === holder.startTicks;
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name); null off Linux. */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}
