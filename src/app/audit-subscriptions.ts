/**
 * Which core events become audit records, and how: models, authentication and keys, backups and
 * health-state changes (issue #11). Inference records go through the gate (audit-gate.ts) instead,
 * because the API waits for them.
 */
import type { EventBus } from "../core/index.js";
import type { AuditEntry } from "../ops/index.js";

/** Subscribes every mapping; returns the functions that unsubscribe. */
export function subscribeAuditRecords(events: EventBus, append: (entry: AuditEntry) => void): (() => void)[] {
  return [
    events.on("backup-end", (event) =>
      append({
        type: "data",
        action: "backup-create",
        object: event.id,
        level: event.ok ? "info" : "error",
        outcome: event.ok ? "success" : "failure",
        details: {
          kind: event.kind,
          scheduled: event.scheduled,
          durationMs: event.durationMs,
          storedBytes: event.storedBytes,
          ...(event.error === undefined ? {} : { error: event.error }),
        },
      }),
    ),
    events.on("backup-missed", (event) =>
      append({
        type: "data",
        action: "backup-missed",
        object: event.kind,
        level: "warning",
        outcome: "failure",
        details: { dueAt: new Date(event.dueAtMs).toISOString(), reason: event.reason },
      }),
    ),
    events.on("backup-restored", (event) =>
      append({
        type: "data",
        action: "backup-restore",
        object: event.id,
        details: { target: event.target, durationMs: event.durationMs },
      }),
    ),
    events.on("backup-pruned", (event) =>
      append({
        type: "data",
        action: "backup-prune",
        object: "backups",
        details: { ids: event.ids, chunksDeleted: event.chunksDeleted, bytesFreed: event.bytesFreed },
      }),
    ),
    events.on("sla-state", (event) =>
      append({
        type: "system",
        action: "health-state",
        object: event.state,
        level: event.state === "down" ? "critical" : event.state === "degraded" ? "warning" : "info",
        details: { previous: event.previous, checks: event.checks },
      }),
    ),
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
    events.on("model-file-changed", (event) =>
      append({
        type: "model",
        action: event.action,
        object: event.model,
        keyId: event.keyId,
        details: event.details,
      }),
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
    events.on("auth-succeeded", (event) =>
      append({
        type: "authentication",
        action: "success",
        object: `${event.method} ${event.path}`,
        keyId: event.keyId,
        address: event.sourceAddress,
        details: { role: event.role, firstUse: event.firstUse, adminRoute: event.adminRoute },
      }),
    ),
    events.on("key-revoked", (event) =>
      append({ type: "authentication", action: "key-revoked", object: event.keyId, keyId: event.byKeyId }),
    ),
  ];
}
