/**
 * `audit/inbox/`: how a CLI hands a record to the server that holds the audit log (only one
 * process writes the chain). The CLI writes one JSON file per entry atomically (temp file, then
 * rename); the server ingests the files in name order (time first), appends each record and
 * deletes the file once the record is on disk. A file that fails the strict schema is renamed
 * `*.rejected` (kept for a look) and its hash goes on record instead.
 */
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { chmod, lstat, mkdir, readFile, readdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Timer, TimePort } from "../../core/index.js";
import type { AuditLog } from "./audit-log.js";
import {
  cliAuditEntry,
  parseInboxFile,
  type CliActor,
  type CliAuditRequest,
  type InboxFile,
} from "./cli-entries.js";

export const inboxFolderName = "inbox";
const maxFileBytes = 16 * 1024;
let written = 0;

export function inboxDirectory(auditDirectory: string): string {
  return join(auditDirectory, inboxFolderName);
}

async function ensureInbox(auditDirectory: string): Promise<string> {
  const directory = inboxDirectory(auditDirectory);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
  return directory;
}

/** Writes one entry for the server; returns the file's path (it disappears once ingested). */
export async function writeInboxFile(
  auditDirectory: string,
  entry: { request: CliAuditRequest; actor: CliActor },
  time: TimePort,
): Promise<string> {
  const directory = await ensureInbox(auditDirectory);
  written += 1;
  const name = `${String(time.wallNow()).padStart(15, "0")}-${process.pid}-${String(written).padStart(6, "0")}.json`;
  const body: InboxFile = { version: 1, request: entry.request, actor: entry.actor };
  const temporary = join(directory, `.tmp-${name}`);
  await writeFile(temporary, JSON.stringify(body) + "\n", { mode: 0o600, flush: true });
  await rename(temporary, join(directory, name));
  return join(directory, name);
}

export type IngestWait = "ingested" | "rejected" | "pending";

/** Waits (bounded) for the server to take the file: gone means on record, `.rejected` means refused. */
export async function awaitIngest(
  path: string,
  options: { time: TimePort; timeoutMs: number },
): Promise<IngestWait> {
  const deadline = options.time.monotonicNow() + options.timeoutMs;
  for (;;) {
    if (!(await exists(path))) return (await exists(`${path}.rejected`)) ? "rejected" : "ingested";
    if (options.time.monotonicNow() >= deadline) return "pending";
    await options.time.sleep(50);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export interface AuditInboxOptions {
  auditDirectory: string;
  log: AuditLog;
  time: TimePort;
  /**
   * The poll while the folder watch works: a fallback for a change the watch misses (default
   * 15 s, ADR 0048: an idle server should not wake every second for a `readdir`).
   */
  pollMs?: number;
  /** The poll without a working watch (it failed to start or reported an error). Default 1000 ms. */
  unwatchedPollMs?: number;
  onError?: (error: unknown) => void;
}

/** The server side: ingests leftovers at start, then every poll and on every change in the folder. */
export class AuditInbox {
  readonly #options: AuditInboxOptions;
  #timer: Timer | undefined;
  #watcher: FSWatcher | undefined;
  #draining: Promise<number> | undefined;
  #again = false;
  #isClosed = false;

  private constructor(options: AuditInboxOptions) {
    this.#options = options;
  }

  static async start(options: AuditInboxOptions): Promise<AuditInbox> {
    const inbox = new AuditInbox(options);
    const directory = await ensureInbox(options.auditDirectory);
    await inbox.drain();
    try {
      inbox.#watcher = watch(directory, () => inbox.#wake());
      inbox.#watcher.on("error", () => {
        inbox.#watcher?.close();
        inbox.#watcher = undefined;
        inbox.#poll();
      });
      inbox.#watcher.unref();
    } catch {
      // Polling alone still ingests every file.
    }
    inbox.#poll();
    return inbox;
  }

  /** (Re)starts the poll: slow while the watch works, every second without it. */
  #poll(): void {
    this.#timer?.cancel();
    if (this.#isClosed) return;
    const options = this.#options;
    const intervalMs =
      this.#watcher === undefined ? (options.unwatchedPollMs ?? 1000) : (options.pollMs ?? 15_000);
    this.#timer = options.time.setInterval(() => this.#wake(), intervalMs).unref();
  }

  /** Ingests every waiting file; resolves with how many were taken (recorded or rejected). */
  drain(): Promise<number> {
    if (this.#draining !== undefined) {
      this.#again = true;
      return this.#draining;
    }
    this.#draining = this.#drainLoop().finally(() => (this.#draining = undefined));
    return this.#draining;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    this.#timer?.cancel();
    this.#watcher?.close();
    await this.#draining?.catch(() => undefined);
  }

  #wake(): void {
    if (this.#isClosed) return;
    this.drain().catch((error: unknown) => this.#options.onError?.(error));
  }

  async #drainLoop(): Promise<number> {
    let taken = 0;
    do {
      this.#again = false;
      const directory = inboxDirectory(this.#options.auditDirectory);
      const names = (await readdir(directory)).filter(
        (name) => name.endsWith(".json") && !name.startsWith("."),
      );
      for (const name of names.sort()) {
        if (this.#isClosed || !this.#options.log.isWritable) return taken;
        await this.#ingest(join(directory, name), name);
        taken += 1;
      }
    } while (this.#again && !this.#isClosed);
    return taken;
  }

  async #ingest(path: string, name: string): Promise<void> {
    const info = await lstat(path).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined; // removed by hand meanwhile
      throw error;
    });
    if (info === undefined) return;
    const content = info.isFile() && info.size <= maxFileBytes ? await readFile(path) : undefined;
    const checked =
      content === undefined
        ? { reason: info.isFile() ? `larger than ${maxFileBytes} bytes` : "not a plain file" }
        : parseJson(content);
    if ("file" in checked) {
      const { request, actor } = checked.file;
      await this.#options.log.record(cliAuditEntry(request, actor, { via: "inbox", fileUid: info.uid }));
      await unlink(path);
      return;
    }
    await this.#options.log.record({
      type: "system",
      action: "inbox-rejected",
      level: "warning",
      outcome: "denied",
      object: name,
      details: {
        reason: checked.reason,
        bytes: info.size,
        fileUid: info.uid,
        sha256: content === undefined ? null : createHash("sha256").update(content).digest("hex"),
      },
    });
    await rename(path, `${path}.rejected`);
  }
}

function parseJson(content: Buffer): ReturnType<typeof parseInboxFile> {
  try {
    return parseInboxFile(JSON.parse(content.toString("utf8")));
  } catch {
    return { reason: "not JSON" };
  }
}
