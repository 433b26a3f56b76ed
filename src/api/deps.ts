/** What the HTTP layer needs from the rest of the server, injected by src/app. */
import type { Config } from "../config/index.js";
import type {
  ApiKeyRegistry,
  AuditGate,
  Caller,
  EventBus,
  Logger,
  Priority,
  TimePort,
} from "../core/index.js";
import type { ModelCatalog } from "../models/index.js";
import type { Scheduler } from "../scheduler/index.js";
import type { RequestDrain } from "./request-drain.js";
import type { RequestOwners } from "./request-owners.js";

export interface ApiDeps {
  config: Readonly<Config>;
  queue: Scheduler;
  catalog: ModelCatalog;
  logger: Logger;
  version: string;
  /** Timestamps replies (wall clock), times them and runs heartbeats (monotonic). */
  time: TimePort;
  /** False while starting or draining; GET /ready answers 503 then. */
  isReady: () => boolean;
  /** Graceful shutdown: refuses new work while draining, ends running streams at the end of the grace. */
  drain: RequestDrain;
  /** Managed API keys; undefined: only --api-keys (tests without a store). */
  keys?: ApiKeyRegistry | undefined;
  /** Where auth events go (auth-failed, key-created, …); undefined: nowhere. */
  events?: EventBus | undefined;
  /** The audit log's gate on generations; undefined with --no-audit (and in tests without one). */
  audit?: AuditGate | undefined;
}

export type ApiEnv = {
  Variables: {
    requestId: string;
    /** Set by the auth middleware on every request. */
    caller: Caller;
    requestOwners: RequestOwners;
    /** Set on inference requests: what was asked for and what the key's cap granted. */
    priority: { asked: Priority; granted: Priority };
  };
};
