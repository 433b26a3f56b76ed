/**
 * The running side of the cluster: one BullMQ Worker per model this node holds (or was told to
 * load), concurrency --parallel. Taking a job publishes a claim and waits (bounded) for the
 * origin to connect to the internal run route; the run then streams the local scheduler's events
 * to the origin as NDJSON frames. A lock renewed while the run lasts keeps the job; a node that
 * dies stops renewing it and BullMQ's stalled-job check hands the job to another node.
 */
import type { Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { bullmq } from "./queue-modules.js";
import {
  AppError,
  toAppError,
  type GenerateRequest,
  type Logger,
  type MonotonicMs,
  type TimePort,
} from "../core/index.js";
import type { OwnedScheduler } from "../scheduler/index.js";
import {
  channels,
  errorFrame,
  queueNameOf,
  type GenerateJobData,
  type RunBody,
  type RunFrame,
} from "./wire.js";

export interface ClusterWorkersOptions {
  connection: Redis;
  local: OwnedScheduler;
  nodeId: string;
  url: string;
  time: TimePort;
  logger: Logger;
  parallel: number;
  /** How long a taken job waits for its origin to connect. */
  claimWaitMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/** A job taken by this node, waiting for (then streaming to) its origin. */
class Run {
  readonly request: GenerateRequest;
  isConnected = false;
  readonly connected: Promise<void>;
  readonly finished: Promise<void>;
  resolveConnected!: () => void;
  rejectConnected!: (error: Error) => void;
  finish!: () => void;

  constructor(request: GenerateRequest) {
    this.request = request;
    this.connected = new Promise((resolve, reject) => {
      this.resolveConnected = resolve;
      this.rejectConnected = reject;
    });
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }
}

export class ClusterWorkers {
  readonly #options: ClusterWorkersOptions;
  readonly #workers = new Map<string, Worker<GenerateJobData>>();
  readonly #runs = new Map<string, Run>();
  /** Models placement asked this node to load, until when (a failed load does not keep a worker forever). */
  readonly #wanted = new Map<string, MonotonicMs>();
  #isClosed = false;

  constructor(options: ClusterWorkersOptions) {
    this.#options = options;
  }

  /** Models with a worker now. */
  get models(): string[] {
    return [...this.#workers.keys()];
  }

  /** Placement chose this node for `model`: take its jobs for a while even before it is loaded. */
  want(model: string, forMs: number): void {
    this.#wanted.set(model, (this.#options.time.monotonicNow() + forMs) as MonotonicMs);
    this.#ensure(model);
  }

  /** Workers for what the node holds or was asked to load; idle workers of other models close. */
  async sync(): Promise<void> {
    if (this.#isClosed) return;
    const now = this.#options.time.monotonicNow();
    const held = new Set(
      this.#options.local
        .snapshot()
        .models.filter((model) => model.state !== "unloading")
        .map((model) => model.model),
    );
    for (const [model, until] of this.#wanted) if (until < now || held.has(model)) this.#wanted.delete(model);
    for (const model of [...held, ...this.#wanted.keys()]) this.#ensure(model);
    const busy = new Set([...this.#runs.values()].map((run) => run.request.model));
    for (const [model, worker] of this.#workers) {
      if (held.has(model) || this.#wanted.has(model) || busy.has(model)) continue;
      this.#workers.delete(model);
      await worker.close().catch(() => undefined);
    }
  }

  /** The origin connected: run the request here and stream its frames. */
  async *serve(requestId: string, body: RunBody, signal: AbortSignal): AsyncGenerator<RunFrame> {
    const run = this.#runs.get(requestId);
    if (run === undefined || run.isConnected)
      throw new AppError(
        "not-found",
        `This node holds no claimed request "${requestId}" waiting for its origin.`,
      );
    run.isConnected = true;
    run.resolveConnected();
    try {
      const request = body.resume === undefined ? run.request : { ...run.request, resume: body.resume };
      for await (const event of this.#options.local.generate(request, { signal })) yield { event };
    } catch (error) {
      yield errorFrame(toAppError(error));
    } finally {
      run.finish();
    }
  }

  /** A cancel for a request taken here but not yet connected: give it back to its origin's wait. */
  hasRun(requestId: string): boolean {
    return this.#runs.has(requestId);
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    for (const run of this.#runs.values())
      if (!run.isConnected) run.rejectConnected(new Error("The node is shutting down."));
    const workers = [...this.#workers.values()];
    this.#workers.clear();
    await Promise.all(workers.map((worker) => worker.close().catch(() => undefined)));
  }

  #ensure(model: string): void {
    if (this.#isClosed || this.#workers.has(model)) return;
    const options = this.#options;
    const worker = new (bullmq().Worker)<GenerateJobData>(queueNameOf(model), (job) => this.#process(job), {
      connection: options.connection,
      concurrency: Math.max(1, options.parallel),
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A node killed twice under the same job still leaves it a third try.
      maxStalledCount: 2,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    worker.on("error", (error) =>
      options.logger.warn("Cluster worker error", { model, node: options.nodeId, error: String(error) }),
    );
    this.#workers.set(model, worker);
  }

  async #process(job: Job<GenerateJobData>): Promise<void> {
    const { request } = job.data;
    const options = this.#options;
    const run = new Run(request);
    this.#runs.set(request.id, run);
    const timer = options.time.setTimeout(
      () =>
        run.rejectConnected(
          new Error(
            `The origin of request "${request.id}" did not connect within ${options.claimWaitMs} ms.`,
          ),
        ),
      options.claimWaitMs,
    );
    try {
      const claim = { requestId: request.id, nodeId: options.nodeId, url: options.url };
      await options.connection.publish(channels.claim, JSON.stringify(claim));
      await run.connected;
      timer.cancel();
      await run.finished;
    } finally {
      timer.cancel();
      this.#runs.delete(request.id);
    }
  }
}
