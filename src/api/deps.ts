/** What the HTTP layer needs from the rest of the server, injected by src/app. */
import type { Config } from "../config/index.js";
import type { Logger, TimePort } from "../core/index.js";
import type { ModelCatalog } from "../models/index.js";
import type { Scheduler } from "../scheduler/index.js";
import type { RequestDrain } from "./request-drain.js";

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
}

export type ApiEnv = { Variables: { requestId: string } };
