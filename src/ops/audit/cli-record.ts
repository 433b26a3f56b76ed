/**
 * A record from the CLI, whether or not a server runs: with the writer lock free, the CLI opens
 * the log itself, appends and closes; while a server holds it, the entry goes through
 * `audit/inbox/` and the CLI waits (bounded) for the server to take it.
 */
import { hostname, userInfo } from "node:os";
import type { TimePort } from "../../core/index.js";
import { AuditLog } from "./audit-log.js";
import { awaitIngest, writeInboxFile, type IngestWait } from "./audit-inbox.js";
import type { AuditPaths } from "./audit-paths.js";
import { cliAuditEntry, type CliActor, type CliAuditRequest } from "./cli-entries.js";
import { listSegments } from "./segment-files.js";
import { loadOrCreateSigningKey, loadSigningKey, type AuditSigningKey } from "./signing-key.js";
import { AuditLockedError } from "./writer-lock.js";

export type CliRecordOutcome =
  | { via: "direct"; seq: number }
  | { via: "inbox"; status: IngestWait; holderPid: number | undefined; path: string; waitedMs: number };

export interface CliRecordOptions {
  paths: AuditPaths;
  time: TimePort;
  /** The witness folder (RAWRXD_AUDIT_WITNESS) that gets the checkpoint of a direct write too. */
  witnessDirectory?: string;
  /** How long to wait for the server to take an inbox file. Default 5000 ms. */
  ingestTimeoutMs?: number;
}

export function cliActor(): CliActor {
  let osUser: string;
  try {
    osUser = userInfo().username;
  } catch {
    osUser = `uid ${process.getuid?.() ?? "?"}`;
  }
  return { osUser, pid: process.pid };
}

export async function recordFromCli(
  request: CliAuditRequest,
  options: CliRecordOptions,
): Promise<CliRecordOutcome> {
  const actor = cliActor();
  const signingKey = await cliSigningKey(options.paths);
  let holderPid: number | undefined;
  if (signingKey !== undefined) {
    try {
      const log = await AuditLog.open({
        directory: options.paths.directory,
        signingKey,
        nodeId: hostname(),
        time: options.time,
        writer: "cli",
        ...(options.witnessDirectory === undefined ? {} : { witnessDirectory: options.witnessDirectory }),
        waitForCliMs: 2000,
      });
      try {
        const record = await log.record(cliAuditEntry(request, actor, { via: "direct" }));
        return { via: "direct", seq: record.seq };
      } finally {
        await log.close();
      }
    } catch (error) {
      if (!(error instanceof AuditLockedError)) throw error;
      holderPid = error.holder.pid;
    }
  }
  const path = await writeInboxFile(options.paths.directory, { request, actor }, options.time);
  const waitedMs = options.ingestTimeoutMs ?? 5000;
  const status = await awaitIngest(path, { time: options.time, timeoutMs: waitedMs });
  return { via: "inbox", status, holderPid, path, waitedMs };
}

/**
 * The key to write with, or undefined: the entry goes to the inbox instead. A key is created only
 * for a log that has no records yet (`rawrxd keys create` before the first server start); a CLI
 * that cannot read the key (the server's own user can), or a copy of a log without its key (an
 * auditor's), never signs with a new one.
 */
async function cliSigningKey(paths: AuditPaths): Promise<AuditSigningKey | undefined> {
  try {
    const key = await loadSigningKey(paths.privateKey);
    if (key !== undefined) return key;
    const segments = await listSegments(paths.directory).catch(() => []);
    return segments.length === 0 ? await loadOrCreateSigningKey(paths.privateKey) : undefined;
  } catch {
    return undefined;
  }
}

/** One line for the CLI's standard error; none when the CLI wrote the record itself. */
export function describeCliRecord(outcome: CliRecordOutcome): string | undefined {
  if (outcome.via === "direct") return undefined;
  const server = outcome.holderPid === undefined ? "the server" : `the server (pid ${outcome.holderPid})`;
  switch (outcome.status) {
    case "ingested":
      return `Audit record handed to ${server}, which has it on record.`;
    case "rejected":
      return `Warning: ${server} refused the audit record handed over in ${outcome.path}.rejected; see its system/inbox-rejected record.`;
    case "pending":
      return `Warning: ${server} did not take the audit record in ${outcome.path} within ${outcome.waitedMs / 1000} s; it stays there and is recorded when a server next reads audit/inbox/.`;
  }
}
