/**
 * Feeds the audit log from the core events (issue #11): system start and stop, every setting at
 * start, model loads, unloads and crashes, authentication failures and key changes, and one
 * `inference` record per finished request. Event listeners run synchronously, so each record is
 * appended in event order and its disk write is awaited elsewhere; a write that fails is logged
 * and never reaches the request that caused it.
 */
import { hostname } from "node:os";
import type { Context, Hono } from "hono";
import type { Config } from "../config/index.js";
import type { EventBus, Logger, ServerEvents, TimePort } from "../core/index.js";
import {
  AuditLog,
  auditPaths,
  createAuditRoutes,
  loadOrCreateSigningKey,
  type AuditEntry,
  type AuditSigningKey,
  type AuditOutcome,
} from "../ops/index.js";

export interface AuditService {
  /** The admin routes (/v1/audit, /v1/audit/verify); each read leaves a `data` record naming its reader. */
  routes(readerOf: (context: Context) => { keyId: string; address: string }): Hono;
  /** Records `system/stop`, writes the last checkpoint and closes the log: the last step of a stop. */
  close(reason: string): Promise<void>;
}

export interface AuditWiringOptions {
  config: Readonly<Config>;
  events: EventBus;
  logger: Logger;
  time: TimePort;
  /** Where RAWRXD_AUDIT_KEY_FILE is read; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The server's version, for the start record. */
  version: string;
}

/** Undefined with --no-audit. */
export async function startAuditService(options: AuditWiringOptions): Promise<AuditService | undefined> {
  const { config, events, logger } = options;
  if (config.noAudit) return undefined;
  const paths = auditPaths(config.home, (options.env ?? process.env)["RAWRXD_AUDIT_KEY_FILE"]);
  let log: AuditLog;
  let signingKey: AuditSigningKey;
  try {
    signingKey = await loadOrCreateSigningKey(paths.privateKey);
    log = await AuditLog.open({
      directory: paths.directory,
      signingKey,
      nodeId: hostname(),
      time: options.time,
    });
  } catch (error) {
    // Serving unrecorded is the operator's choice to make, not a silent fallback.
    throw new Error(
      `Cannot open the audit log in ${paths.directory} with the key ${paths.privateKey}: ` +
        `${(error as Error).message}. Fix the folder's or key's permissions, or start with --no-audit.`,
    );
  }
  const append = (entry: AuditEntry): void => {
    log.record(entry).catch((error: unknown) =>
      logger.error("Audit record could not be written", {
        type: entry.type,
        action: entry.action,
        error: String(error),
      }),
    );
  };
  append({ type: "system", action: "start", details: { version: options.version, pid: process.pid } });
  append({ type: "configuration", action: "settings-at-start", details: settingsForAudit(config) });
  if (config.insecureNoAuth)
    append({ type: "system", action: "insecure-no-auth", level: "warning", object: config.host });
  const unsubscribe = subscribe(events, append);
  let closing: Promise<void> | undefined;
  return {
    routes: (readerOf) =>
      createAuditRoutes({
        directory: paths.directory,
        publicKey: signingKey.publicKey,
        time: options.time,
        onRead: ({ action, context, details }) => {
          const reader = readerOf(context);
          append({
            type: "data",
            action: `audit-${action}`,
            keyId: reader.keyId,
            address: reader.address,
            details,
          });
        },
      }),
    close: (reason) =>
      (closing ??= (async () => {
        for (const stop of unsubscribe) stop();
        append({ type: "system", action: "stop", details: { reason } });
        await log.close();
      })()),
  };
}

function subscribe(events: EventBus, append: (entry: AuditEntry) => void): (() => void)[] {
  return [
    events.on("model-load-end", (event) =>
      append({
        type: "model",
        action: "load",
        object: event.model,
        level: event.ok ? "info" : "error",
        outcome: event.ok ? "success" : "failure",
        details: { ms: event.ms, ...(event.error === undefined ? {} : { error: event.error }) },
      }),
    ),
    events.on("model-unloaded", (event) =>
      append({ type: "model", action: "unload", object: event.model, details: { reason: event.reason } }),
    ),
    events.on("runner-crashed", (event) =>
      append({
        type: "model",
        action: "runner-crashed",
        object: event.model,
        level: "error",
        outcome: "failure",
        details: { pid: event.pid ?? null, detail: event.detail },
      }),
    ),
    events.on("auth-failed", (event) =>
      append({
        type: "authentication",
        action: "failed",
        level: "warning",
        outcome: "denied",
        object: `${event.method} ${event.path}`,
        ...(event.keyId === undefined ? {} : { keyId: event.keyId }),
        address: event.sourceAddress,
        details: { reason: event.reason },
      }),
    ),
    events.on("auth-rate-limited", (event) =>
      append({
        type: "authentication",
        action: "rate-limited",
        level: "warning",
        outcome: "denied",
        object: event.path,
        address: event.sourceAddress,
        details: { retryAfterSeconds: event.retryAfterSeconds },
      }),
    ),
    events.on("key-created", (event) =>
      append({
        type: "authentication",
        action: "key-created",
        object: event.keyId,
        keyId: event.byKeyId,
        details: { name: event.name, role: event.role, maxPriority: event.maxPriority },
      }),
    ),
    events.on("key-revoked", (event) =>
      append({ type: "authentication", action: "key-revoked", object: event.keyId, keyId: event.byKeyId }),
    ),
    events.on("request-end", (event) => append(inferenceEntry(event))),
  ];
}

/** One finished request: who, which model, token counts and how it ended; never the prompt. */
export function inferenceEntry(event: ServerEvents["request-end"]): AuditEntry {
  const outcome = inferenceOutcome(event.outcome);
  return {
    type: "inference",
    action: "generate",
    object: event.model,
    requestId: event.requestId,
    ...(event.apiKeyId === undefined ? {} : { keyId: event.apiKeyId }),
    ...(event.sourceAddress === undefined ? {} : { address: event.sourceAddress }),
    outcome,
    level: outcome === "failure" ? "error" : "info",
    details: {
      finishReason: event.outcome,
      errorCode: event.errorCode ?? null,
      priorityAsked: event.priorityAsked ?? null,
      priorityGranted: event.priority ?? null,
      promptTokens: event.promptTokens,
      completionTokens: event.completionTokens,
      totalMs: event.totalMs,
    },
  };
}

function inferenceOutcome(outcome: ServerEvents["request-end"]["outcome"]): AuditOutcome {
  switch (outcome) {
    case "cancelled":
      return "cancelled";
    case "error":
      return "failure";
    case "rejected":
      return "denied";
    case "stop":
    case "length":
      return "success";
  }
}

/** Every setting as the server resolved it, with secrets replaced by what names them. */
export function settingsForAudit(config: Readonly<Config>): Record<string, unknown> {
  return {
    ...config,
    // Each --api-keys key is the admin key `config-N`: its id is enough, the text never leaves.
    apiKeys: { count: config.apiKeys.length, ids: config.apiKeys.map((_, index) => `config-${index + 1}`) },
  };
}
