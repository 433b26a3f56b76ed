/**
 * The event port: the serving path emits typed events here; ops services subscribe to them
 * in src/app. Listeners run synchronously and must stay cheap; a throwing listener is
 * isolated so it never breaks the request that emitted the event.
 */
import type { Role } from "./access.js";
import type { AuditEvents } from "./audit-events.js";
import type { BackupEvents } from "./backup-events.js";
import type { FinishReason, Priority } from "./inference.js";
import type { SlaEvents } from "./sla-events.js";
import type { ClusterSlaEvents } from "./cluster-sla-events.js";

export interface ServerEvents extends AuthEvents, AuditEvents, SlaEvents, BackupEvents, ClusterSlaEvents {
  "request-queued": { requestId: string; model: string; priority: Priority };
  "request-started": { requestId: string; model: string; queueMs: number };
  "request-preempted": {
    requestId: string;
    model: string;
    completionTokens: number;
    byRequestId: string | undefined;
  };
  "request-resumed": { requestId: string; model: string; queueMs: number };
  "first-token": { requestId: string; model: string; msSinceStart: number };
  "request-end": {
    requestId: string;
    model: string;
    outcome: FinishReason | "error" | "rejected";
    errorCode?: string;
    promptTokens: number;
    completionTokens: number;
    totalMs: number;
    /** Timing fields for metrics (issue #5); undefined where the request never got that far. */
    priority?: Priority;
    /** Prompt tokens reused from the sequence's cache. */
    cachedTokens?: number;
    /** Arrival to its sequence (model load included), plus any wait after a preemption. */
    queueMs?: number;
    /** Waiting on a model load this request caused or joined. */
    loadMs?: number;
    /** Arrival to the first generated token. */
    timeToFirstTokenMs?: number;
    /** Sequence start to the first token: prompt evaluation and the first decode step. */
    promptMs?: number;
    /** First token to the end, without time spent preempted. */
    decodeMs?: number;
    preemptions?: number;
    /** Tokens evaluated again on resumes after preemption (0 when saved KV states were restored). */
    reevaluatedTokens?: number;
    /** Speculative decoding: tokens drafted and drafted tokens accepted; absent when it was off. */
    draftedTokens?: number;
    acceptedTokens?: number;
    /** The API key that sent the request (`config-1`, a managed key id, `anonymous-local`). */
    apiKeyId?: string;
    /** The client's address. */
    sourceAddress?: string;
    /** The priority asked for; `priority` is the one granted. */
    priorityAsked?: Priority;
  };
  "model-load-start": { model: string };
  "model-load-end": { model: string; ok: boolean; ms: number; error?: string };
  "model-unloaded": { model: string; reason: "idle" | "evicted" | "requested" | "shutdown" };
  "runner-crashed": { model: string; pid: number | undefined; detail: string };
  /** A model file added or removed through the API (Ollama's /api/pull, /api/copy, /api/delete). */
  "model-file-changed": {
    action: "pull" | "copy" | "delete";
    model: string;
    /** The key that asked for it. */
    keyId: string;
    details: Record<string, string | number>;
  };
  /** A performance rule started or stopped holding (ops/metrics); once each way, no flapping. */
  "performance-warning": {
    rule: string;
    /** The model the rule is about; undefined for server-wide rules. */
    model: string | undefined;
    state: "start" | "clear";
    /** The measured value when the state changed (null: no recent data). */
    value: number | null;
    threshold: number;
    message: string;
  };
}

/** Authentication and key management, for the audit log (issue #11). */
export interface AuthEvents {
  /** A request without a valid key, or with a key whose role may not use the route. */
  "auth-failed": {
    reason: "missing-key" | "invalid-key" | "revoked-key" | "forbidden";
    /** The key's public id when one could be read from what was presented. */
    keyId: string | undefined;
    sourceAddress: string;
    method: string;
    path: string;
  };
  /**
   * A key was accepted: emitted the first time each key is used in this server process, and on
   * every use of an admin-only route (keys, audit, configuration, model management) except the
   * monitoring reads (/metrics, /v1/metrics, /v1/gpu). Not per inference request: those records
   * already name their key.
   */
  "auth-succeeded": {
    keyId: string;
    role: Role;
    sourceAddress: string;
    method: string;
    path: string;
    /** The first request with this key since the server started. */
    firstUse: boolean;
    /** The route is one a `user` key may not use (monitoring reads excepted). */
    adminRoute: boolean;
  };
  /** Too many failed attempts from one address: refused with 429 until `retryAfterSeconds`. */
  "auth-rate-limited": { sourceAddress: string; retryAfterSeconds: number; path: string };
  "key-created": { keyId: string; name: string; role: Role; maxPriority: Priority; byKeyId: string };
  "key-revoked": { keyId: string; byKeyId: string };
}

export type EventName = keyof ServerEvents;
type Listener<Name extends EventName> = (payload: ServerEvents[Name]) => void;

export class EventBus {
  readonly #listeners = new Map<EventName, Set<Listener<EventName>>>();
  readonly #onListenerError: (error: unknown, event: EventName) => void;

  constructor(onListenerError: (error: unknown, event: EventName) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<Name extends EventName>(name: Name, listener: Listener<Name>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as Listener<EventName>);
    return () => set.delete(listener as Listener<EventName>);
  }

  emit<Name extends EventName>(name: Name, payload: ServerEvents[Name]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        listener(payload);
      } catch (error) {
        this.#onListenerError(error, name);
      }
    }
  }
}
