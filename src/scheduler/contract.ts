/**
 * The Scheduler contract: what the API, the CLI (through the API) and the ops services may ask of
 * the scheduler. The in-process ModelQueue implements it; a distributed queue (Redis/BullMQ, see
 * docs/architecture.md "Beyond one machine") is another implementation. So nothing here relies on
 * being in the same process: requests are named by id, commands are async, and the snapshot is
 * plain serialisable data (docs/decisions/0013-scheduler-interface.md).
 */
import type {
  EmbedResult,
  GenerateRequest,
  Priority,
  StreamEvent,
  TextFrameTemplate,
  TokenizerRequest,
  TokenizerResult,
  WallMs,
} from "../core/index.js";
import type { LoadedModelInfo, StreamLend } from "../engine/index.js";
import type { Socket } from "node:net";
import type { QueuePolicyName } from "./policies.js";

export interface SubmitOptions {
  signal: AbortSignal;
  /** Ollama keep_alive for this model after the request: ms, 0 unload now, -1 forever. */
  keepAliveMs?: number | undefined;
}

export interface EmbedRequest {
  id: string;
  model: string;
  inputs: string[];
}

/** Where a request is: admitted (resolving its model), waiting on a load, queued for a sequence, or running. */
export type RequestState = "admitting" | "loading" | "queued" | "running";

export interface Scheduler {
  /**
   * Queues, loads the model if needed, and streams one generation; a preempted request resumes
   * in the same stream. Fails with AppError codes: queue-full, queue-timeout, cancelled,
   * insufficient-memory, model-load-failed, runner-crashed, shutting-down, …
   */
  generate(request: GenerateRequest, options: SubmitOptions): AsyncGenerator<StreamEvent>;
  embed(request: EmbedRequest, options: SubmitOptions): Promise<EmbedResult>;
  /** Asks the model's tokenizer or chat template (/tokenize…), loading the model if needed; takes no sequence. */
  tokenizer(model: string, request: TokenizerRequest, options: SubmitOptions): Promise<TokenizerResult>;
  /** Loads a model without generating (Ollama: an empty prompt). */
  preload(model: string, options: SubmitOptions): Promise<void>;
  /** Unloads a model now; its running requests fail. Resolves to whether it was loaded. */
  unload(model: string): Promise<boolean>;
  /** Cancels a request in any phase; resolves to its state then, or undefined when unknown. */
  cancel(requestId: string): Promise<RequestState | undefined>;
  /** The state now, as plain data (JSON-safe): loaded models, queues per model and priority, requests. */
  snapshot(): SchedulerSnapshot;
  /**
   * Optional (ADR 0056): lends the client's socket to the runner generating `requestId`
   * (ModelRunner.lend). Undefined when declined or when its runner cannot take sockets.
   */
  lendStream?(
    requestId: string,
    socket: Socket,
    template: TextFrameTemplate,
  ): Promise<StreamLend | undefined>;
}

/** A scheduler the composition root owns: it stops it (fails new work, ends every runner). */
export interface OwnedScheduler extends Scheduler {
  close(): Promise<void>;
}

export interface LoadedModelView {
  name: string;
  info: LoadedModelInfo;
  /** Requests holding or waiting for this model. */
  active: number;
  /** Requests waiting for one of its sequences. */
  queued: number;
  isPinned: boolean;
  /** When the idle model unloads (wall clock, for /api/ps); undefined while busy or kept forever. */
  expiresAtMs: WallMs | undefined;
}

export interface PriorityQueueView {
  queued: number;
  running: number;
  oldestWaitMs: number | null;
}

export interface ModelQueueView {
  model: string;
  state: "loading" | "ready" | "unloading";
  isPinned: boolean;
  sequences: { total: number; active: number };
  memoryEstimateBytes: number;
  priorities: Record<Priority, PriorityQueueView>;
  /** Smoothed time a request holds a sequence, for ETAs. */
  averageServiceMs: number | null;
}

export interface RequestStatus {
  id: string;
  model: string;
  priority: Priority;
  state: RequestState;
  waitedMs: number;
  /** 1-based place among the model's waiting requests, in the order they will start. */
  position: number | null;
  /** Estimated ms until it starts, from the model's recent service times; null when unknown. */
  estimatedStartMs: number | null;
  preemptions: number;
}

export interface SchedulerSnapshot {
  /** Requests waiting (for a load or a sequence) across all models. */
  queued: number;
  maxQueued: number;
  policy: QueuePolicyName;
  isPreemptionEnabled: boolean;
  agingStepMs: number;
  memoryBudgetBytes: number;
  /** Models with a running runner (/api/ps, `rawrxd ps`, /v1/gpu). */
  loaded: LoadedModelView[];
  /** Every model the scheduler holds, loading and unloading ones included (/v1/queue). */
  models: ModelQueueView[];
  /** Requests queued or running (/v1/queue/{id}). */
  requests: RequestStatus[];
  /** With --cluster: this node's id and every live node's advert; absent on a standalone node. */
  cluster?: { nodeId: string; nodes: ClusterNodeView[] } | undefined;
}

/** What /v1/queue shows of one cluster node (src/cluster/contract.ts NodeAdvert has these fields). */
export interface ClusterNodeView {
  nodeId: string;
  url: string;
  heartbeatAtMs: number;
  isAccepting: boolean;
  memory: { budgetBytes: number; usedBytes: number };
  models: {
    name: string;
    state: "loading" | "ready" | "unloading";
    sequences: { total: number; active: number };
    queued: Record<Priority, number>;
    memoryEstimateBytes: number;
  }[];
}
