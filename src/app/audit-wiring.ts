/**
 * Feeds the audit log from the core events (issue #11): system start and stop, every setting at
 * start, model loads, unloads and crashes, authentication failures and key changes, and one
 * `inference` record per finished request (through the gate, audit-gate.ts, whose writes the
 * API awaits before a response ends); runs the retention purge and reports the log's health.
 * Listeners run synchronously, so records are appended in event order; any other write that
 * fails is logged and never reaches the request that caused it.
 */
import { hostname } from "node:os";
import type { Context, Hono } from "hono";
import type { Config } from "../config/index.js";
import type { AuditGate, EventBus, Logger, TimePort } from "../core/index.js";
import {
  AuditInbox,
  AuditLockedError,
  AuditLog,
  auditPaths,
  createAuditRoutes,
  loadOrCreateSigningKey,
  type AuditEntry,
  type AuditHealth,
  type AuditSigningKey,
  type OpenSegmentFile,
  type PostgresWitness,
  type PostgresWitnessStatus,
  witnessUrlForDisplay,
} from "../ops/index.js";
import { redactStoreUrl } from "../store/index.js";
import { auditWitnessUrlOf, createPostgresWitness, witnessReporter } from "./audit-witness-wiring.js";
import { RequestAuditGate } from "./audit-gate.js";
import { startRetentionPurge } from "./audit-retention.js";
import { subscribeAuditRecords } from "./audit-subscriptions.js";

/** Who read something: the caller's key id and address. */
export interface Reader {
  keyId: string;
  address: string;
}

export interface AuditService {
  /** The API's gate: inference records on disk before the response ends; fail-closed refusals. */
  gate: AuditGate;
  /** A request taken here ran on another cluster node (its record is there): forget its ticket. */
  ranElsewhere(requestId: string): void;
  /** The admin routes (/v1/audit, /v1/audit/verify, /v1/audit/status); each read leaves a `data` record naming its reader. */
  routes(readerOf: (context: Context) => Reader): Hono;
  /** A `data` record for a read elsewhere (metrics export): who read what. */
  recordRead(read: {
    action: string;
    object: string;
    reader: Reader;
    details: Record<string, unknown>;
  }): void;
  /** Settles once the retention purges started so far (at start, daily) have finished. */
  purgesIdle(): Promise<void>;
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
  /** How segment files are opened; tests inject failing writers. Default node:fs. */
  openSegmentFile?: OpenSegmentFile | undefined;
  /** Names this node in records, checkpoints and the PostgreSQL witness (the cluster's node id). Default the host name. */
  nodeId?: string | undefined;
}

/** Fail-closed by flag, or by the hipaa profile. */
export function isAuditFailClosed(config: Readonly<Config>): boolean {
  return config.auditFailClosed || config.auditProfile === "hipaa";
}

/** Undefined with --no-audit. */
export async function startAuditService(options: AuditWiringOptions): Promise<AuditService | undefined> {
  const { config, events, logger } = options;
  if (config.noAudit) return undefined;
  const paths = auditPaths(config.home, (options.env ?? process.env)["RAWRXD_AUDIT_KEY_FILE"]);
  const nodeId = options.nodeId ?? hostname();
  let log: AuditLog;
  let signingKey: AuditSigningKey;
  const isFailClosed = isAuditFailClosed(config);
  // Bound once the log is open: health changes after that are recorded where they can be.
  let onHealthChange: (health: AuditHealth) => void = () => undefined;
  let onWitnessChange: (status: PostgresWitnessStatus) => void = () => undefined;
  let witness: PostgresWitness | undefined;
  try {
    signingKey = await loadOrCreateSigningKey(paths.privateKey);
    // The cluster's witness (issue #18): every checkpoint also goes to PostgreSQL, queued.
    const postgresWitness = createPostgresWitness({
      config,
      nodeId,
      directory: paths.directory,
      signingKey,
      time: options.time,
      onStateChange: (status) => onWitnessChange(status),
    });
    witness = postgresWitness;
    log = await AuditLog.open({
      directory: paths.directory,
      signingKey,
      nodeId,
      time: options.time,
      ...(config.auditWitness === "" ? {} : { witnessDirectory: config.auditWitness }),
      // A `rawrxd keys` or `rawrxd audit` run holds the log for one record.
      waitForCliMs: 5000,
      ...(options.openSegmentFile === undefined ? {} : { openSegmentFile: options.openSegmentFile }),
      onHealthChange: (health) => onHealthChange(health),
      ...(postgresWitness === undefined
        ? {}
        : { onCheckpoint: (checkpoint, segment) => postgresWitness.submit(checkpoint, segment) }),
    });
  } catch (error) {
    if (error instanceof AuditLockedError)
      throw new Error(
        `Cannot start: ${error.message} Another server on this RAWRXD_HOME (or one with --home ${config.home}) is running; stop it or use another --home.`,
      );
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
  if (log.health.state === "degraded") {
    logger.error("Audit log degraded", { reason: log.health.reason });
    append({
      type: "system",
      action: "health-degraded",
      level: "error",
      object: "audit-log",
      details: { reason: log.health.reason },
    });
  }
  append({ type: "configuration", action: "settings-at-start", details: settingsForAudit(config) });
  if (config.insecureNoAuth)
    append({ type: "system", action: "insecure-no-auth", level: "warning", object: config.host });
  onHealthChange = (health) => {
    const reason = "reason" in health ? health.reason : undefined;
    events.emit("audit-health", { state: health.state, ...(reason === undefined ? {} : { reason }) });
    if (health.state === "failed")
      logger.error(
        isFailClosed
          ? "CRITICAL: the audit log cannot be written; inference is refused (fail-closed) until it is fixed and the server restarted"
          : "CRITICAL: the audit log cannot be written; serving continues UNRECORDED (not fail-closed)",
        { severity: "critical", reason },
      );
    else {
      logger.warn("Audit log health changed", { state: health.state, reason });
      append({
        type: "system",
        action: "audit-health",
        level: "warning",
        details: { state: health.state, reason },
      });
    }
  };
  onWitnessChange = witnessReporter({ logger, append, url: auditWitnessUrlOf(config) });
  const gate = new RequestAuditGate({ log, isFailClosed, recordsContent: config.auditContent, logger });
  const unsubscribe = [
    ...subscribeAuditRecords(events, append),
    events.on("request-end", (event) => gate.requestEnded(event)),
  ];
  const purger = startRetentionPurge(log, { config, logger, time: options.time });
  // Records the CLI hands over while this server holds the log (ADR 0015); leftovers first.
  const onInboxError = (error: unknown): void =>
    logger.error("Audit inbox could not be read", { folder: paths.directory, error: String(error) });
  const inbox = await AuditInbox.start({
    auditDirectory: paths.directory,
    log,
    time: options.time,
    onError: onInboxError,
  }).catch((error: unknown) => void onInboxError(error));
  let closing: Promise<void> | undefined;
  return {
    gate,
    ranElsewhere: (requestId) => gate.ranElsewhere(requestId),
    purgesIdle: () => purger.idle(),
    recordRead: ({ action, object, reader, details }) =>
      append({ type: "data", action, object, keyId: reader.keyId, address: reader.address, details }),
    routes: (readerOf) =>
      createAuditRoutes({
        directory: paths.directory,
        publicKey: signingKey.publicKey,
        ...(config.auditWitness === "" ? {} : { witnessDirectory: config.auditWitness }),
        time: options.time,
        status: () => ({
          node: nodeId,
          health: log.health,
          head: log.head,
          witness: {
            folder: config.auditWitness !== "",
            postgres: witness?.status() ?? null,
          },
        }),
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
        await inbox?.close();
        await purger.stop();
        append({ type: "system", action: "stop", details: { reason } });
        await log.close();
        // One last try for what is queued (the stop's checkpoint); the rest stays local.
        await witness?.close();
      })()),
  };
}

/** Every setting as the server resolved it, with secrets replaced by what names them. */
export function settingsForAudit(config: Readonly<Config>): Record<string, unknown> {
  return {
    ...config,
    // Each --api-keys key is the admin key `config-N`: its id is enough, the text never leaves.
    apiKeys: { count: config.apiKeys.length, ids: config.apiKeys.map((_, index) => `config-${index + 1}`) },
    // The shared store's URL without its password.
    store: config.store === "" ? "" : redactStoreUrl(config.store),
    auditWitnessUrl: config.auditWitnessUrl === "" ? "" : witnessUrlForDisplay(config.auditWitnessUrl),
  };
}
