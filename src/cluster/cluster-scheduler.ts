/**
 * The cluster's Scheduler (docs/decisions/0035-cluster-on-redis.md): an adapter around the
 * node's local scheduler. A `generate` is admitted into its model's BullMQ queue (priority, aging,
 * bounded length, deadline); a worker on a node holding the model claims it and this node (the
 * origin, holding the client connection) pulls the events from that node's internal run route.
 * Embeddings and tokenizer calls go to a node holding the model when this one does not
 * (holder-calls.ts); preloads and unloads act on this node (ADR 0047).
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  AppError,
  type EmbedResult,
  type GenerateRequest,
  type Logger,
  type Priority,
  type StreamEvent,
  type TimePort,
  type TokenizerRequest,
  type TokenizerResult,
} from "../core/index.js";
import type {
  EmbedRequest,
  OwnedScheduler,
  RequestState,
  RequestStatus,
  SchedulerSnapshot,
  SubmitOptions,
} from "../scheduler/index.js";
import { ClusterWorkers } from "./cluster-workers.js";
import type { NodeAdvert, PlacementPolicy } from "./contract.js";
import { RedisMembership } from "./membership.js";
import { OriginRequest } from "./origin-request.js";
import { followOrigin } from "./origin-follow.js";
import { advertOf } from "./node-advert.js";
import { boundedRedisCall } from "./bounded-redis.js";
import { clusterMetrics, type ClusterMetrics } from "./cluster-view.js";
import { HolderCalls, type HolderCall } from "./holder-calls.js";
import { QueueAdmission } from "./queue-admission.js";
import { bullmq, ioredis } from "./queue-modules.js";
import { RedisBacklog } from "./redis-backlog.js";
import { residentFirstPlacement } from "./resident-first.js";
import {
  bullPriority,
  channels,
  jobIdOf,
  queueNameOf,
  requestKey,
  type CancelMessage,
  type ClaimMessage,
  type GenerateJobData,
  type LoadMessage,
  type RunBody,
  type RunFrame,
} from "./wire.js";

/** Who this node is in the cluster: known once its HTTP port listens. */
export interface ClusterIdentity {
  nodeId: string;
  /** This node's base URL for the other nodes. */
  url: string;
}

export interface ClusterSchedulerOptions {
  local: OwnedScheduler;
  redisUrl: string;
  secret: string;
  time: TimePort;
  logger: Logger;
  version: string;
  parallel: number;
  /** Waiting jobs per model queue beyond which admission answers queue-full. */
  maxQueued: number;
  queueTimeoutMs: number;
  /** 0: no aging. */
  agingStepMs: number;
  placement?: PlacementPolicy | undefined;
  memoryEstimateBytes?: ((model: string) => Promise<number>) | undefined;
  heartbeatMs?: number;
  ttlMs?: number;
  claimWaitMs?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How long an origin waits for another node after losing the running one. Default 15 s. */
  recoveryWaitMs?: number;
  /** Longest start() waits for Redis before it fails. Default 10 s. */
  connectTimeoutMs?: number;
  /** Longest a Redis call of admission may take before 503 cluster-unavailable. Default 2 s. */
  redisTimeoutMs?: number;
  /**
   * A request this node took in ended on another node: its request-end (and audit record) happened
   * there, not here (the app drops the audit ticket it opened).
   */
  onRanElsewhere?: ((requestId: string) => void) | undefined;
}

export interface ClusterSnapshot extends SchedulerSnapshot {
  cluster: { nodeId: string; nodes: NodeAdvert[] };
}

export class ClusterScheduler implements OwnedScheduler {
  nodeId = "";
  #url = "";
  #membership: RedisMembership | undefined;
  readonly #options: ClusterSchedulerOptions;
  readonly #local: OwnedScheduler;
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  #workers: ClusterWorkers | undefined;
  readonly #queues = new Map<string, Queue<GenerateJobData>>();
  readonly #backlog = new RedisBacklog((model) => this.#queueFor(model));
  readonly #admission: QueueAdmission;
  readonly #calls: HolderCalls;
  readonly #origins = new Map<string, OriginRequest>();
  readonly #startedAtMs: number;
  readonly #heartbeatMs: number;
  #isClosed = false;

  /** Connects to Redis; call start() once the node's URL is known. */
  constructor(options: ClusterSchedulerOptions) {
    this.#options = options;
    this.#local = options.local;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#startedAtMs = options.time.wallNow();
    // BullMQ needs maxRetriesPerRequest null; admission checks the status and times out instead.
    this.#commands = new (ioredis().Redis)(options.redisUrl, { maxRetriesPerRequest: null });
    this.#commands.on("error", () => undefined);
    this.#admission = new QueueAdmission(this.#commands);
    this.#calls = new HolderCalls({
      local: options.local,
      secret: options.secret,
      logger: options.logger,
      view: () =>
        this.#membership === undefined || this.#isClosed
          ? undefined
          : { selfId: this.nodeId, nodes: this.nodes() },
    });
    this.#subscriber = this.#commands.duplicate();
    this.#subscriber.on("error", () => undefined);
  }

  /** Subscribes, writes the first advert and starts the workers of what the node holds. */
  async start(identity: ClusterIdentity): Promise<void> {
    const options = this.#options;
    await this.#connected(options.connectTimeoutMs ?? 10_000);
    this.nodeId = identity.nodeId;
    this.#url = identity.url;
    this.#membership = new RedisMembership({
      redis: this.#commands,
      nodeId: identity.nodeId,
      advert: () => this.#advert(),
      time: options.time,
      logger: options.logger,
      heartbeatMs: this.#heartbeatMs,
      ttlMs: options.ttlMs ?? 3000,
    });
    this.#workers = new ClusterWorkers({
      connection: this.#commands,
      local: options.local,
      nodeId: identity.nodeId,
      url: identity.url,
      time: options.time,
      logger: options.logger,
      parallel: options.parallel,
      claimWaitMs: options.claimWaitMs ?? 10_000,
      lockDurationMs: options.lockDurationMs ?? 2000,
      stalledIntervalMs: options.stalledIntervalMs ?? 2000,
    });
    const workers = this.#workers;
    this.#subscriber.on("message", (channel: string, message: string) => this.#onMessage(channel, message));
    await this.#subscriber.subscribe(channels.claim, channels.cancel, channels.load);
    await this.#membership.start();
    await workers.sync();
    await this.#refreshBacklog();
    const timer = options.time
      .setInterval(() => {
        void workers.sync();
        void this.#refreshBacklog();
      }, this.#heartbeatMs)
      .unref();
    this.#stopSync = () => timer.cancel();
  }

  #stopSync = (): void => undefined;

  /** A node that cannot reach Redis at start says so instead of waiting silently. */
  async #connected(timeoutMs: number): Promise<void> {
    if (this.#commands.status === "ready") return;
    let lastError = "";
    const onError = (error: Error): void => {
      lastError = error.message;
    };
    this.#commands.on("error", onError);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = this.#options.time.setTimeout(() => {
          const target = redactedUrl(this.#options.redisUrl);
          reject(
            new AppError(
              "cluster-unavailable",
              `Cannot reach the cluster's Redis at ${target} within ${timeoutMs} ms${lastError === "" ? "" : ` (${lastError})`}; check --cluster and that Redis runs.`,
            ),
          );
        }, timeoutMs);
        this.#commands.once("ready", () => {
          timer.cancel();
          resolve();
        });
      });
    } finally {
      this.#commands.off("error", onError);
    }
  }

  /** The internal run route: the origin of a request this node claimed pulls its frames. */
  serveRun(requestId: string, body: RunBody, signal: AbortSignal): AsyncGenerator<RunFrame> {
    if (this.#workers === undefined) throw new AppError("not-found", "This cluster node has not started.");
    return this.#workers.serve(requestId, body, signal);
  }

  get membership(): RedisMembership {
    if (this.#membership === undefined) throw new Error("The cluster scheduler has not started.");
    return this.#membership;
  }

  /** Live nodes' adverts as read on the last heartbeat. */
  nodes(): readonly NodeAdvert[] {
    return this.#membership?.latest ?? [];
  }

  /**
   * The whole cluster as this node sees it, for /v1/metrics and /metrics: the adverts of the last
   * heartbeat and the backlog of the Redis queues counted on it.
   */
  metrics(): ClusterMetrics & {
    nodeId: string;
    queuedInRedisByModel: Readonly<Record<string, Readonly<Record<Priority, number>>>>;
  } {
    return {
      nodeId: this.nodeId,
      ...clusterMetrics(this.nodes(), this.#backlog.latest),
      queuedInRedisByModel: this.#backlog.byModel,
    };
  }

  async *generate(request: GenerateRequest, options: SubmitOptions): AsyncGenerator<StreamEvent> {
    if (this.#membership === undefined)
      throw new AppError("cluster-unavailable", "This node has not joined the cluster yet; retry shortly.", {
        retryAfterSeconds: 1,
      });
    if (this.#isClosed)
      throw new AppError("shutting-down", "This node is leaving the cluster; retry on another node.", {
        retryAfterSeconds: 2,
      });
    if (this.#origins.has(request.id)) throw idInUse(request.id);
    const origin = new OriginRequest(request, bullPriority[request.priority], this.#options.time);
    const abort = (): void => origin.controller.abort();
    if (options.signal.aborted) abort();
    else options.signal.addEventListener("abort", abort, { once: true });
    this.#origins.set(request.id, origin);
    try {
      await this.#admit(origin);
      yield* followOrigin(origin, {
        time: this.#options.time,
        logger: this.#options.logger,
        secret: this.#options.secret,
        heartbeatMs: this.#heartbeatMs,
        queueTimeoutMs: this.#options.queueTimeoutMs,
        recoveryWaitMs: this.#options.recoveryWaitMs ?? 15_000,
        agingStepMs: this.#options.agingStepMs,
        queue: (model) => this.#queueFor(model),
        add: (entry) => this.#add(entry),
        place: (model) => this.#place(model, false),
      });
    } finally {
      options.signal.removeEventListener("abort", abort);
      this.#origins.delete(request.id);
      if (origin.runningOn !== undefined && origin.runningOn !== this.nodeId)
        this.#options.onRanElsewhere?.(request.id);
      if (origin.holdsRequestKey) void this.#commands.del(requestKey(request.id)).catch(() => undefined);
    }
  }

  /** On a node holding the model (holder-calls.ts); here when none other does or it cannot. */
  embed(request: EmbedRequest, options: SubmitOptions): Promise<EmbedResult> {
    return this.#calls.embed(request, options);
  }

  tokenizer(model: string, request: TokenizerRequest, options: SubmitOptions): Promise<TokenizerResult> {
    return this.#calls.tokenizer(model, request, options);
  }

  /** The internal calls route: another node's embedding or tokenizer call, on this node only. */
  serveCall(call: HolderCall, signal: AbortSignal): Promise<EmbedResult | TokenizerResult> {
    return this.#calls.serve(call, signal);
  }

  preload(model: string, options: SubmitOptions): Promise<void> {
    return this.#local.preload(model, options);
  }

  unload(model: string): Promise<boolean> {
    return this.#local.unload(model);
  }

  async cancel(requestId: string): Promise<RequestState | undefined> {
    const origin = this.#origins.get(requestId);
    const local = await this.#local.cancel(requestId);
    if (origin !== undefined) {
      await this.#publishCancel(requestId);
      this.#cancelOrigin(origin);
      return local ?? origin.state;
    }
    if (local !== undefined) return local;
    const known = await this.#redis(() => this.#commands.get(requestKey(requestId)), "cancel");
    if (known === null) return undefined;
    await this.#publishCancel(requestId);
    const { model } = JSON.parse(known) as { model: string };
    const job = await this.#queueFor(model).getJob(jobIdOf(requestId));
    const state = job === undefined ? undefined : await job.getState();
    return state === "active" ? "running" : "queued";
  }

  snapshot(): ClusterSnapshot {
    const local = this.#local.snapshot();
    const localIds = new Set(local.requests.map((request) => request.id));
    const now = this.#options.time.monotonicNow();
    const remote: RequestStatus[] = [...this.#origins.values()]
      .filter((origin) => !localIds.has(origin.request.id))
      .map((origin) => ({
        id: origin.request.id,
        model: origin.request.model,
        priority: origin.request.priority,
        state: origin.state,
        waitedMs: now - origin.enqueuedMs,
        position: null,
        estimatedStartMs: null,
        preemptions: 0,
      }));
    return {
      ...local,
      requests: [...local.requests, ...remote],
      cluster: { nodeId: this.nodeId, nodes: [...this.nodes()] },
    };
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#stopSync();
    for (const origin of this.#origins.values()) origin.controller.abort();
    await this.#workers?.close();
    await this.#membership?.close();
    await Promise.all([...this.#queues.values()].map((queue) => queue.close().catch(() => undefined)));
    this.#subscriber.disconnect();
    this.#commands.disconnect();
    await this.#local.close();
  }

  async #admit(origin: OriginRequest): Promise<void> {
    const { request } = origin;
    const queue = this.#queueFor(request.model);
    // One request per id in the whole cluster (as on one node): the key also lets any node find it.
    const ttlMs = this.#options.queueTimeoutMs + 60 * 60_000;
    const value = JSON.stringify({ model: request.model, origin: this.nodeId });
    const isNew = await this.#redis(
      () => this.#commands.set(requestKey(request.id), value, "PX", ttlMs, "NX"),
      "admission",
    );
    if (isNew === null) throw idInUse(request.id);
    origin.holdsRequestKey = true;
    // Check the bound and take a place in one step (queue-admission.ts): no overshoot across nodes.
    const jobId = jobIdOf(request.id);
    const waiting = await this.#redis(
      () => this.#admission.reserve(queue, jobId, { bound: this.#options.maxQueued }),
      "admission",
    );
    if (waiting !== undefined)
      throw new AppError(
        "queue-full",
        `The cluster is busy: ${waiting} requests for "${request.model}" are already queued (--max-queue ${this.#options.maxQueued}). Retry later.`,
        { retryAfterSeconds: 2 },
      );
    try {
      await this.#place(request.model, true);
      await this.#redis(() => this.#add(origin), "admission");
    } finally {
      // Added: the job holds the place now; refused or failed: the place is free again.
      void this.#admission.release(queue, jobId).catch(() => undefined);
    }
  }

  #add(origin: OriginRequest): Promise<unknown> {
    const data: GenerateJobData = {
      request: origin.request,
      originNodeId: this.nodeId,
      originUrl: this.#url,
    };
    return this.#queueFor(origin.request.model).add("generate", data, {
      jobId: jobIdOf(origin.request.id),
      priority: origin.bullPriority,
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  /** Asks placement where the model runs; tells the chosen node to load it when nobody holds it. */
  async #place(model: string, isAdmission: boolean): Promise<void> {
    const nodes = isAdmission ? await this.#redis(() => this.membership.nodes(), "admission") : this.nodes();
    const estimate = (await this.#options.memoryEstimateBytes?.(model).catch(() => 0)) ?? 0;
    const policy = this.#options.placement ?? residentFirstPlacement;
    const placement = policy({ model, memoryEstimateBytes: estimate, nodes });
    if (placement.kind === "none") {
      if (isAdmission) throw new AppError("insufficient-memory", placement.reason);
      return;
    }
    if (placement.kind === "resident") return;
    const message: LoadMessage = { nodeId: placement.nodeId, model };
    await this.#commands.publish(channels.load, JSON.stringify(message));
  }

  /** The models any node advertises and those this node queued: their Redis backlog. */
  async #refreshBacklog(): Promise<void> {
    if (this.#isClosed || this.#commands.status !== "ready") return;
    const models = new Set(this.#queues.keys());
    for (const node of this.nodes()) for (const model of node.models) models.add(model.name);
    await this.#backlog.refresh(models);
  }

  #onMessage(channel: string, raw: string): void {
    try {
      if (channel === channels.claim) {
        const claim = JSON.parse(raw) as ClaimMessage;
        this.#origins.get(claim.requestId)?.claimed(claim);
      } else if (channel === channels.cancel) {
        const { requestId } = JSON.parse(raw) as CancelMessage;
        const origin = this.#origins.get(requestId);
        if (origin !== undefined) this.#cancelOrigin(origin);
        void this.#local.cancel(requestId).catch(() => undefined);
      } else if (channel === channels.load) {
        const message = JSON.parse(raw) as LoadMessage;
        if (message.nodeId !== this.nodeId || this.#isClosed) return;
        this.#workers?.want(message.model, 60_000);
        void this.#local
          .preload(message.model, { signal: new AbortController().signal })
          .catch((error: unknown) =>
            this.#options.logger.warn("Cluster preload failed", {
              model: message.model,
              error: String(error),
            }),
          );
      }
    } catch (error) {
      this.#options.logger.warn("Cluster message ignored", { channel, error: String(error) });
    }
  }

  /** Queued: it ends now. Running: the running node cancels (its stream ends with `cancelled`). */
  #cancelOrigin(origin: OriginRequest): void {
    if (origin.state === "queued") origin.controller.abort();
  }

  async #publishCancel(requestId: string): Promise<void> {
    const message: CancelMessage = { requestId };
    await this.#redis(() => this.#commands.publish(channels.cancel, JSON.stringify(message)), "cancel");
  }

  #queueFor(model: string): Queue<GenerateJobData> {
    let queue = this.#queues.get(model);
    if (queue === undefined) {
      queue = new (bullmq().Queue)<GenerateJobData>(queueNameOf(model), { connection: this.#commands });
      queue.on("error", () => undefined);
      this.#queues.set(model, queue);
    }
    return queue;
  }

  /** A Redis call of the request path: 503 cluster-unavailable when Redis is down or slow. */
  #redis<T>(call: () => Promise<T>, what: string): Promise<T> {
    return boundedRedisCall(call, {
      redis: this.#commands,
      time: this.#options.time,
      timeoutMs: this.#options.redisTimeoutMs ?? 2000,
      what,
    });
  }

  #advert(): NodeAdvert {
    return advertOf(this.#local.snapshot(), {
      nodeId: this.nodeId,
      url: this.#url,
      heartbeatAtMs: this.#options.time.wallNow(),
      startedAtMs: this.#startedAtMs,
      version: this.#options.version,
      isAccepting: !this.#isClosed,
    });
  }
}

function idInUse(requestId: string): AppError {
  return new AppError(
    "bad-request",
    `Request id "${requestId}" is already in use by a running request in the cluster; send a unique X-Request-Id or none.`,
  );
}

/** The Redis URL without its password, for messages. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "the --cluster URL";
  }
}
