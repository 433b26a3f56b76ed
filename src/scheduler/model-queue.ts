/**
 * ModelQueue: admits requests, loads models on demand (one runner per model) within the
 * model-count and memory budgets, gives each request a sequence slot by priority, preempts a
 * low request for a waiting high one, and streams events. Requests for different models never
 * wait on each other's loads. Policies live in policies.ts; views in queue-snapshot.ts.
 */
import {
  AppError,
  type Clock,
  type EventBus,
  type EmbedResult,
  type GenerateRequest,
  type Logger,
  type ResumeState,
  type StreamEvent,
} from "../core/index.js";
import type { GpuChoice, InferenceEngine, LoadedModelInfo, ModelRunner } from "../engine/index.js";
import type { GgufInfo } from "../gguf/index.js";
import { estimateModelMemory, formatBytes, type MemoryEstimate } from "./memory-budget.js";
import { ModelSlots, type SlotHolder } from "./model-slots.js";
import { selectQueueOrdering, type QueueOrdering, type QueuePolicyName } from "./policies.js";
import { RequestRegistry, type TrackedRequest } from "./request-registry.js";
import { findModelToEvict, type Resident } from "./residency.js";

export interface ResolvedModel {
  name: string;
  path: string;
  /** The validated GGUF header, for the memory estimate. */
  info?: GgufInfo | undefined;
}

export interface ModelResolver {
  resolve(name: string): Promise<ResolvedModel>;
}

export interface ModelQueueOptions {
  engine: InferenceEngine;
  models: ModelResolver;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  contextTokens: number;
  parallel: number;
  threads: number;
  gpu: GpuChoice;
  loadTimeoutMs: number;
  maxLoadedModels: number;
  /** Requests waiting (for a load or a sequence) across all models. */
  maxQueued: number;
  maxQueuedPerModel: number;
  queueTimeoutMs: number;
  keepAliveMs: number;
  queuePolicy: QueuePolicyName;
  /** See policies.ts: one priority class per step of waiting. */
  agingStepMs: number;
  /** Asked for; it applies only under the priority policy (see isPreemptionEnabled). */
  isPreemptionEnabled: boolean;
  /** Memory all loaded models may use together. */
  memoryBudgetBytes: number;
  /** Models never evicted and kept loaded once loaded. */
  pinnedModels: readonly string[];
  /** Replaces the GGUF-based estimate (tests, and issue #3's planner). */
  estimateMemory?: (model: ResolvedModel) => MemoryEstimate;
}

export interface SubmitOptions {
  signal: AbortSignal;
  /** Ollama keep_alive for this model after the request: ms, 0 unload now, -1 forever. */
  keepAliveMs?: number | undefined;
}

export interface LoadedModelView {
  name: string;
  info: LoadedModelInfo;
  active: number;
  queued: number;
  isPinned: boolean;
  expiresAtMs: number | undefined;
}

interface Started {
  /** The model's residency the slot belongs to (a new one after a runner crash). */
  resident: Resident;
  runner: ModelRunner;
  holder: SlotHolder;
  loadMs: number;
}

const emptyEstimate: MemoryEstimate = { totalBytes: 0, weightsBytes: 0, kvCacheBytes: 0, computeBytes: 0 };

export class ModelQueue {
  readonly options: Readonly<ModelQueueOptions>;
  /** Preemption in effect: asked for, and the priority policy (FIFO has no class to preempt for). */
  readonly isPreemptionEnabled: boolean;
  readonly residents = new Map<string, Resident>();
  readonly requests = new RequestRegistry();
  readonly #ordering: QueueOrdering;
  #queued = 0;
  readonly #queuedByModel = new Map<string, number>();
  #isClosed = false;
  readonly #idleWaiters = new Set<() => void>();

  constructor(options: ModelQueueOptions) {
    this.options = options;
    this.#ordering = selectQueueOrdering(options.queuePolicy, options.agingStepMs);
    this.isPreemptionEnabled = options.isPreemptionEnabled && options.queuePolicy === "priority";
  }

  get queuedCount(): number {
    return this.#queued;
  }

  async *generate(request: GenerateRequest, options: SubmitOptions): AsyncGenerator<StreamEvent> {
    const { events, clock } = this.options;
    const startedMs = clock.now();
    const { request: tracked, untrack } = this.requests.track({
      id: request.id,
      model: request.model,
      priority: request.priority,
      enqueuedMs: startedMs,
      clientSignal: options.signal,
    });
    let outcome: "stop" | "length" | "cancelled" | "error" | "rejected" = "error";
    let errorCode: string | undefined;
    let promptTokens = 0;
    let completionTokens = 0;
    // Clock readings for request-end (metrics); nothing here runs per token.
    const timing: {
      queueMs?: number;
      loadMs?: number;
      firstTokenMs?: number;
      promptMs?: number;
      endMs?: number;
      pausedAfterFirstMs: number;
      cachedTokens?: number;
    } = { pausedAfterFirstMs: 0 };
    let preemptedAtMs: number | undefined;
    try {
      const admitted = await this.#admit(request.model, tracked);
      tracked.model = admitted.name;
      const isLoadPending = admitted.state.kind !== "ready";
      events.emit("request-queued", {
        requestId: request.id,
        model: admitted.name,
        priority: request.priority,
      });
      let resume: ResumeState | undefined;
      let isFirstToken = true;
      let loadMs = 0;
      for (;;) {
        const started = await this.#startOn(admitted, tracked, {
          isResumed: resume !== undefined,
          keepAliveMs: options.keepAliveMs,
          isPreemptible: request.json === undefined,
        });
        const resident = started.resident;
        loadMs += started.loadMs;
        if (isLoadPending) timing.loadMs = loadMs;
        const queueMs = clock.now() - startedMs;
        const waitedMs = preemptedAtMs === undefined ? queueMs : clock.now() - preemptedAtMs;
        timing.queueMs = (timing.queueMs ?? 0) + waitedMs;
        if (preemptedAtMs !== undefined && timing.firstTokenMs !== undefined)
          timing.pausedAfterFirstMs += waitedMs;
        events.emit(resume === undefined ? "request-started" : "request-resumed", {
          requestId: request.id,
          model: resident.name,
          queueMs,
        });
        let preempted: ResumeState | undefined;
        const runStartMs = clock.now();
        try {
          for await (const event of started.runner.generate(
            { ...request, model: resident.name, resume },
            tracked.controller.signal,
          )) {
            if (event.type === "preempted") {
              preempted = event.resume;
              completionTokens = event.usage.completionTokens;
              break;
            }
            if (event.type === "text-delta") started.holder.isDecoding = true;
            if (event.type === "text-delta" && isFirstToken) {
              isFirstToken = false;
              timing.firstTokenMs = clock.now() - startedMs;
              timing.promptMs = clock.now() - runStartMs;
              events.emit("first-token", {
                requestId: request.id,
                model: resident.name,
                msSinceStart: timing.firstTokenMs,
              });
            }
            if (event.type === "end") {
              outcome = event.reason;
              timing.endMs = clock.now();
              timing.cachedTokens = event.usage.cachedTokens;
              promptTokens = event.usage.promptTokens;
              completionTokens = event.usage.completionTokens;
              yield { ...event, timings: { ...event.timings, loadMs } };
            } else {
              yield event;
            }
          }
        } finally {
          this.#recordService(resident, clock.now() - runStartMs);
          started.holder.release();
          this.#afterRequest(resident, options.keepAliveMs);
        }
        if (preempted === undefined) break;
        resume = preempted;
        preemptedAtMs = clock.now();
        tracked.preemptions += 1;
        tracked.state = "queued";
        events.emit("request-preempted", {
          requestId: request.id,
          model: resident.name,
          completionTokens,
          byRequestId: tracked.preemptedBy,
        });
      }
    } catch (error) {
      errorCode = error instanceof AppError ? error.code : "internal";
      outcome =
        errorCode === "queue-full"
          ? "rejected"
          : errorCode === "cancelled" || tracked.controller.signal.aborted
            ? "cancelled"
            : "error";
      if (tracked.controller.signal.aborted && !(error instanceof AppError && error.code !== "cancelled")) {
        throw new AppError("cancelled", "The request was cancelled.", { cause: error });
      }
      throw error;
    } finally {
      untrack();
      const endMs = timing.endMs ?? clock.now();
      events.emit("request-end", {
        requestId: request.id,
        model: tracked.model,
        outcome,
        ...(errorCode === undefined ? {} : { errorCode }),
        promptTokens,
        completionTokens,
        totalMs: clock.now() - startedMs,
        priority: request.priority,
        cachedTokens: timing.cachedTokens,
        queueMs: timing.queueMs,
        loadMs: timing.loadMs,
        timeToFirstTokenMs: timing.firstTokenMs,
        promptMs: timing.promptMs,
        decodeMs:
          timing.firstTokenMs === undefined
            ? undefined
            : Math.max(0, endMs - startedMs - timing.firstTokenMs - timing.pausedAfterFirstMs),
        preemptions: tracked.preemptions,
      });
    }
  }

  async embed(
    request: { id: string; model: string; inputs: string[] },
    options: SubmitOptions,
  ): Promise<EmbedResult> {
    const { request: tracked, untrack } = this.requests.track({
      id: request.id,
      model: request.model,
      priority: "normal",
      enqueuedMs: this.options.clock.now(),
      clientSignal: options.signal,
    });
    try {
      const admitted = await this.#admit(request.model, tracked);
      const started = await this.#startOn(admitted, tracked, {
        isResumed: false,
        keepAliveMs: options.keepAliveMs,
        isPreemptible: false,
      });
      try {
        return await started.runner.embed(request.inputs, tracked.controller.signal);
      } finally {
        started.holder.release();
        this.#afterRequest(started.resident, options.keepAliveMs);
      }
    } finally {
      untrack();
    }
  }

  /** Loads a model without generating (Ollama: an empty prompt). */
  async preload(name: string, options: SubmitOptions): Promise<void> {
    const resident = await this.#admit(name, undefined);
    resident.active += 1;
    try {
      await this.#runnerOf(resident);
    } finally {
      this.#afterRequest(resident, options.keepAliveMs);
    }
  }

  /** Loaded models with their sequences in use and waiting (/api/ps, `rawrxd ps`). */
  loaded(): LoadedModelView[] {
    const views: LoadedModelView[] = [];
    for (const resident of this.residents.values()) {
      if (resident.state.kind !== "ready") continue;
      views.push({
        name: resident.name,
        info: resident.state.runner.info,
        active: resident.slots.running.size,
        queued: resident.slots.waiting.length,
        isPinned: resident.isPinned,
        expiresAtMs: resident.expiresAtMs,
      });
    }
    return views;
  }

  /** Cancels a request while queued, loading, in prompt processing or generating. */
  cancel(requestId: string): string | undefined {
    return this.requests.cancel(requestId);
  }

  /** Unloads a model now; its running requests fail. Returns whether it was loaded. */
  async unload(name: string): Promise<boolean> {
    const resident = this.residents.get(name);
    if (resident === undefined) return false;
    await this.#unload(resident, "requested");
    return true;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    await Promise.all([...this.residents.values()].map((resident) => this.#unload(resident, "shutdown")));
  }

  async #admit(name: string, tracked: TrackedRequest | undefined): Promise<Resident> {
    if (this.#isClosed)
      throw new AppError("shutting-down", "The server is shutting down; retry on another instance.", {
        retryAfterSeconds: 5,
      });
    const model = await this.options.models.resolve(name);
    if (tracked !== undefined) {
      if (this.#queued >= this.options.maxQueued) {
        throw new AppError(
          "queue-full",
          `The server is busy: ${this.#queued} requests are already queued (--max-queue ${this.options.maxQueued}). Retry later.`,
          { retryAfterSeconds: 2 },
        );
      }
      const forModel = this.#queuedByModel.get(model.name) ?? 0;
      if (forModel >= this.options.maxQueuedPerModel) {
        throw new AppError(
          "queue-full",
          `Model "${model.name}" is busy: ${forModel} requests are already queued for it (--max-queue-per-model ${this.options.maxQueuedPerModel}). Retry later.`,
          { retryAfterSeconds: 2 },
        );
      }
    }
    let resident = this.residents.get(model.name);
    // A model on its way out (keep_alive 0, eviction) is loaded afresh once its runner has exited.
    while (resident?.state.kind === "unloading") {
      await resident.state.done;
      resident = this.residents.get(model.name);
    }
    if (resident === undefined) {
      const estimate = this.#estimate(model);
      if (estimate.totalBytes > this.options.memoryBudgetBytes) throw this.#neverFits(model.name, estimate);
      resident = {
        name: model.name,
        state: {
          kind: "loading",
          ready: Promise.resolve(undefined as never),
          startedMs: this.options.clock.now(),
        },
        slots: new ModelSlots(this.options.parallel, this.#ordering, this.options.clock),
        estimate,
        isPinned: this.options.pinnedModels.includes(model.name),
        active: 0,
        lastUsedMs: this.options.clock.now(),
        keepAliveMs: this.options.pinnedModels.includes(model.name) ? -1 : this.options.keepAliveMs,
        expiresAtMs: undefined,
        idleTimer: undefined,
        serviceMs: undefined,
      };
      this.residents.set(model.name, resident);
      resident.state = {
        kind: "loading",
        ready: this.#load(model, resident),
        startedMs: this.options.clock.now(),
      };
      this.#watchLoad(resident);
    }
    return resident;
  }

  #estimate(model: ResolvedModel): MemoryEstimate {
    if (this.options.estimateMemory !== undefined) return this.options.estimateMemory(model);
    if (model.info === undefined) return emptyEstimate;
    return estimateModelMemory(model.info, {
      contextTokens: this.options.contextTokens,
      parallel: this.options.parallel,
    });
  }

  #neverFits(name: string, estimate: MemoryEstimate): AppError {
    return new AppError(
      "insufficient-memory",
      `Model "${name}" needs about ${formatBytes(estimate.totalBytes)} (weights ${formatBytes(estimate.weightsBytes)}, KV cache ${formatBytes(estimate.kvCacheBytes)} for ${this.options.parallel} × ${this.options.contextTokens} tokens, compute ${formatBytes(estimate.computeBytes)}) but the memory budget is ${formatBytes(this.options.memoryBudgetBytes)}. Lower --context-size or --parallel, use a smaller quantisation, or raise --memory-budget.`,
    );
  }

  async #startOn(
    admitted: Resident,
    tracked: TrackedRequest,
    options: { isResumed: boolean; keepAliveMs: number | undefined; isPreemptible?: boolean },
  ): Promise<Started> {
    let resident = admitted;
    for (;;) {
      const started = await this.#waitForSlot(resident, tracked, options);
      if (started.runner.isAlive) return started;
      // The runner died while this request waited: give the slot back and wait on a reload.
      started.holder.release();
      this.#afterRequest(resident, options.keepAliveMs);
      resident = await this.#admit(resident.name, undefined);
    }
  }

  async #waitForSlot(
    resident: Resident,
    tracked: TrackedRequest,
    options: { isResumed: boolean; keepAliveMs: number | undefined; isPreemptible?: boolean },
  ): Promise<Started> {
    resident.active += 1;
    clearTimeout(resident.idleTimer);
    resident.expiresAtMs = undefined;
    this.#countQueued(resident.name, +1);
    let isQueued = true;
    try {
      const loadStart = this.options.clock.now();
      tracked.state = resident.state.kind === "ready" ? "queued" : "loading";
      const runner = await this.#runnerOf(resident);
      const loadMs = this.options.clock.now() - loadStart;
      tracked.state = "queued";
      const acquiring = resident.slots.acquire({
        requestId: tracked.id,
        priority: tracked.priority,
        enqueuedMs: tracked.enqueuedMs,
        isResumed: options.isResumed,
        // A JSON grammar's state cannot be carried over a preemption.
        isPreemptible: this.isPreemptionEnabled && (options.isPreemptible ?? true),
        preemptions: tracked.preemptions,
        signal: tracked.controller.signal,
        queueTimeoutMs: this.options.queueTimeoutMs,
      });
      this.#preemptForWaitingHigh(resident, runner, tracked.id);
      const holder = await acquiring;
      this.#countQueued(resident.name, -1);
      isQueued = false;
      tracked.state = "running";
      return { resident, runner, holder, loadMs };
    } catch (error) {
      if (isQueued) this.#countQueued(resident.name, -1);
      this.#afterRequest(resident, options.keepAliveMs);
      throw error;
    }
  }

  #preemptForWaitingHigh(resident: Resident, runner: ModelRunner, byRequestId: string): void {
    if (!this.isPreemptionEnabled) return;
    const victim = resident.slots.findVictimForWaitingHigh();
    if (victim === undefined) return;
    victim.isBeingPreempted = true;
    const tracked = this.requests.get(victim.requestId);
    if (tracked !== undefined) tracked.preemptedBy = byRequestId;
    this.options.logger.debug("Preempting a low-priority request", {
      model: resident.name,
      requestId: victim.requestId,
      byRequestId,
    });
    runner.preempt(victim.requestId);
  }

  #countQueued(model: string, delta: number): void {
    this.#queued += delta;
    this.#queuedByModel.set(model, (this.#queuedByModel.get(model) ?? 0) + delta);
  }

  #recordService(resident: Resident, ms: number): void {
    resident.serviceMs = resident.serviceMs === undefined ? ms : resident.serviceMs * 0.8 + ms * 0.2;
  }

  async #runnerOf(resident: Resident): Promise<ModelRunner> {
    const state = resident.state;
    if (state.kind === "ready") return state.runner;
    if (state.kind === "loading") return state.ready;
    throw new AppError(
      "model-load-failed",
      `Model "${resident.name}" is being unloaded; retry in a moment.`,
      { retryAfterSeconds: 1 },
    );
  }

  async #load(model: ResolvedModel, resident: Resident): Promise<ModelRunner> {
    const { events, engine, clock } = this.options;
    const started = clock.now();
    events.emit("model-load-start", { model: model.name });
    try {
      await this.#makeRoom(resident);
      const runner = await engine.load({
        name: model.name,
        path: model.path,
        contextTokens: this.options.contextTokens,
        parallel: this.options.parallel,
        threads: this.options.threads,
        gpu: this.options.gpu,
        loadTimeoutMs: this.options.loadTimeoutMs,
      });
      events.emit("model-load-end", { model: model.name, ok: true, ms: clock.now() - started });
      return runner;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      events.emit("model-load-end", {
        model: model.name,
        ok: false,
        ms: clock.now() - started,
        error: message,
      });
      throw error;
    }
  }

  #watchLoad(resident: Resident): void {
    if (resident.state.kind !== "loading") return;
    resident.state.ready.then(
      (runner) => {
        if (this.residents.get(resident.name) !== resident) return;
        resident.state = { kind: "ready", runner, loadedMs: this.options.clock.now() };
        void runner.exited.then((exit) => {
          if (
            this.residents.get(resident.name) === resident &&
            resident.state.kind === "ready" &&
            resident.state.runner === runner
          ) {
            this.residents.delete(resident.name);
            this.#notifyIdle();
          }
          if (!exit.expected) {
            this.options.logger.error(`Runner crashed: ${exit.detail}`, { model: resident.name });
            this.options.events.emit("runner-crashed", {
              model: resident.name,
              pid: runner.info.pid,
              detail: exit.detail,
            });
          }
        });
        if (resident.active === 0) this.#scheduleIdleUnload(resident);
      },
      () => {
        // The load's error reaches every waiting request; forget the model so the next one retries.
        if (this.residents.get(resident.name) === resident) this.residents.delete(resident.name);
        this.#notifyIdle();
      },
    );
  }

  /**
   * Waits until the model fits next to the others: fewer than maxLoadedModels residents and the
   * memory estimates within budget, evicting idle models (least recently used first) and
   * waiting for their processes to exit, so the memory is really back.
   */
  async #makeRoom(loading: Resident): Promise<void> {
    for (;;) {
      const others = [...this.residents.values()].filter((resident) => resident !== loading);
      const usedBytes = others.reduce((sum, resident) => sum + resident.estimate.totalBytes, 0);
      if (
        others.length < this.options.maxLoadedModels &&
        usedBytes + loading.estimate.totalBytes <= this.options.memoryBudgetBytes
      )
        return;
      const victim = findModelToEvict(others);
      if (victim === undefined && others.every((resident) => resident.isPinned)) {
        // Waiting cannot help: pinned models never leave.
        throw new AppError(
          "insufficient-memory",
          `Cannot load model "${loading.name}": the pinned models ${others.map((resident) => `"${resident.name}"`).join(", ")} use the room (--max-loaded-models ${this.options.maxLoadedModels}, memory budget ${formatBytes(this.options.memoryBudgetBytes)}). Unpin one (--pin) or raise the limits.`,
        );
      }
      if (victim !== undefined) {
        this.options.events.emit("model-unloaded", { model: victim.name, reason: "evicted" });
        await this.#unload(victim, "evicted");
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#idleWaiters.delete(wake);
          resolve();
        };
        this.#idleWaiters.add(wake);
      });
    }
  }

  #afterRequest(resident: Resident, keepAliveMs: number | undefined): void {
    resident.active = Math.max(0, resident.active - 1);
    resident.lastUsedMs = this.options.clock.now();
    if (keepAliveMs !== undefined && !resident.isPinned) resident.keepAliveMs = keepAliveMs;
    if (resident.active > 0 || resident.state.kind !== "ready") return;
    this.#notifyIdle();
    this.#scheduleIdleUnload(resident);
  }

  #scheduleIdleUnload(resident: Resident): void {
    clearTimeout(resident.idleTimer);
    if (resident.keepAliveMs < 0) {
      resident.expiresAtMs = undefined;
      return;
    }
    resident.expiresAtMs = Date.now() + resident.keepAliveMs;
    resident.idleTimer = setTimeout(() => {
      if (resident.active === 0) void this.#unload(resident, "idle");
    }, resident.keepAliveMs);
    resident.idleTimer.unref();
  }

  #notifyIdle(): void {
    for (const wake of [...this.#idleWaiters]) wake();
  }

  async #unload(resident: Resident, reason: "idle" | "evicted" | "requested" | "shutdown"): Promise<void> {
    clearTimeout(resident.idleTimer);
    const state = resident.state;
    if (state.kind === "unloading") return state.done;
    resident.slots.rejectAll(
      new AppError(
        "model-load-failed",
        `Model "${resident.name}" was unloaded (${reason}) while this request waited; retry.`,
        { retryAfterSeconds: 1 },
      ),
    );
    const done = (async () => {
      const runner = state.kind === "ready" ? state.runner : await state.ready.catch(() => undefined);
      await runner?.dispose();
      if (this.residents.get(resident.name) === resident) this.residents.delete(resident.name);
      if (reason !== "evicted") this.options.events.emit("model-unloaded", { model: resident.name, reason });
      this.#notifyIdle();
    })();
    resident.state = { kind: "unloading", done };
    return done;
  }
}
