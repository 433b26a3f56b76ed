/**
 * ModelQueue: admits requests, loads models on demand (one runner per model, at most
 * maxLoadedModels, least recently used idle one evicted), gives each request a sequence slot,
 * and streams its events. Requests for different models never wait on each other's loads.
 * Issue #4 grows this into priorities, preemption and memory-aware admission.
 */
import { AppError, type Clock, type EmbedResult, type EventBus, type GenerateEvent, type GenerateRequest, type Logger } from "../core/index.js";
import type { GpuChoice, InferenceEngine, LoadedModelInfo, ModelRunner } from "../engine/index.js";
import { findModelToEvict, type Resident } from "./residency.js";
import { SlotSemaphore } from "./slot-semaphore.js";

export interface ResolvedModel {
  name: string;
  path: string;
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
  maxQueued: number;
  queueTimeoutMs: number;
  keepAliveMs: number;
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
  expiresAtMs: number | undefined;
}

export class ModelQueue {
  readonly #options: ModelQueueOptions;
  readonly #residents = new Map<string, Resident>();
  #queued = 0;
  #isClosed = false;
  readonly #idleWaiters = new Set<() => void>();

  constructor(options: ModelQueueOptions) {
    this.#options = options;
  }

  get queuedCount(): number {
    return this.#queued;
  }

  async *generate(request: GenerateRequest, options: SubmitOptions): AsyncGenerator<GenerateEvent> {
    const { events, clock } = this.#options;
    const startedMs = clock.now();
    let outcome: "stop" | "length" | "cancelled" | "error" | "rejected" = "error";
    let errorCode: string | undefined;
    let promptTokens = 0;
    let completionTokens = 0;
    let model = request.model;
    try {
      const resident = await this.#admit(request.model);
      model = resident.name;
      events.emit("request-queued", { requestId: request.id, model, priority: request.priority });
      const { runner, release, loadMs } = await this.#startOn(resident, options);
      events.emit("request-started", { requestId: request.id, model, queueMs: clock.now() - startedMs });
      let isFirst = true;
      try {
        for await (const event of runner.generate({ ...request, model }, options.signal)) {
          if (event.type === "text-delta" && isFirst) {
            isFirst = false;
            events.emit("first-token", { requestId: request.id, model, msSinceStart: clock.now() - startedMs });
          }
          if (event.type === "end") {
            outcome = event.reason;
            promptTokens = event.usage.promptTokens;
            completionTokens = event.usage.completionTokens;
            yield { ...event, timings: { ...event.timings, loadMs } };
          } else {
            yield event;
          }
        }
      } finally {
        release();
      }
    } catch (error) {
      errorCode = error instanceof AppError ? error.code : "internal";
      outcome = errorCode === "queue-full" ? "rejected" : errorCode === "cancelled" ? "cancelled" : "error";
      throw error;
    } finally {
      events.emit("request-end", {
        requestId: request.id,
        model,
        outcome,
        ...(errorCode === undefined ? {} : { errorCode }),
        promptTokens,
        completionTokens,
        totalMs: clock.now() - startedMs,
      });
    }
  }

  async embed(request: { id: string; model: string; inputs: string[] }, options: SubmitOptions): Promise<EmbedResult> {
    const resident = await this.#admit(request.model);
    const { runner, release } = await this.#startOn(resident, options);
    try {
      return await runner.embed(request.inputs, options.signal);
    } finally {
      release();
    }
  }

  /** Loads a model without generating (Ollama: empty prompt). */
  async preload(name: string, options: SubmitOptions): Promise<void> {
    const resident = await this.#admit(name);
    const { release } = await this.#startOn(resident, options);
    release();
  }

  loaded(): LoadedModelView[] {
    const views: LoadedModelView[] = [];
    for (const resident of this.#residents.values()) {
      if (resident.state.kind !== "ready") continue;
      views.push({
        name: resident.name,
        info: resident.state.runner.info,
        active: resident.slots.inUse,
        queued: resident.slots.waiting,
        expiresAtMs: resident.expiresAtMs,
      });
    }
    return views;
  }

  /** Unloads a model now if it is idle; returns whether it was loaded. */
  async unload(name: string): Promise<boolean> {
    const resident = this.#residents.get(name);
    if (resident === undefined) return false;
    await this.#unload(resident, "requested");
    return true;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    await Promise.all([...this.#residents.values()].map((resident) => this.#unload(resident, "shutdown")));
  }

  async #admit(name: string): Promise<Resident> {
    if (this.#isClosed) throw new AppError("shutting-down", "The server is shutting down; retry on another instance.", { retryAfterSeconds: 5 });
    const model = await this.#options.models.resolve(name);
    if (this.#queued >= this.#options.maxQueued) {
      throw new AppError("queue-full", `The server is busy: ${this.#queued} requests are already queued (--max-queue ${this.#options.maxQueued}). Retry later.`, { retryAfterSeconds: 2 });
    }
    let resident = this.#residents.get(model.name);
    if (resident === undefined) {
      resident = {
        name: model.name,
        state: { kind: "loading", ready: this.#load(model), startedMs: this.#options.clock.now() },
        slots: new SlotSemaphore(this.#options.parallel),
        active: 0,
        lastUsedMs: this.#options.clock.now(),
        keepAliveMs: this.#options.keepAliveMs,
        expiresAtMs: undefined,
        idleTimer: undefined,
      };
      this.#residents.set(model.name, resident);
      this.#watchLoad(resident);
    }
    return resident;
  }

  async #startOn(resident: Resident, options: SubmitOptions): Promise<{ runner: ModelRunner; release: () => void; loadMs: number }> {
    resident.active += 1;
    clearTimeout(resident.idleTimer);
    resident.expiresAtMs = undefined;
    this.#queued += 1;
    let releaseSlot: (() => void) | undefined;
    let isQueued = true;
    try {
      const loadStart = this.#options.clock.now();
      const runner = await this.#runnerOf(resident);
      const loadMs = this.#options.clock.now() - loadStart;
      releaseSlot = await resident.slots.acquire(options.signal, this.#options.queueTimeoutMs);
      this.#queued -= 1;
      isQueued = false;
      const slot = releaseSlot;
      return {
        runner,
        loadMs,
        release: () => {
          slot();
          this.#afterRequest(resident, options.keepAliveMs);
        },
      };
    } catch (error) {
      if (isQueued) this.#queued -= 1;
      releaseSlot?.();
      this.#afterRequest(resident, options.keepAliveMs);
      throw error;
    }
  }

  async #runnerOf(resident: Resident): Promise<ModelRunner> {
    const state = resident.state;
    if (state.kind === "ready") return state.runner;
    if (state.kind === "loading") return state.ready;
    throw new AppError("model-load-failed", `Model "${resident.name}" is being unloaded; retry in a moment.`, { retryAfterSeconds: 1 });
  }

  async #load(model: ResolvedModel): Promise<ModelRunner> {
    const { events, engine, clock } = this.#options;
    const started = clock.now();
    events.emit("model-load-start", { model: model.name });
    try {
      await this.#makeRoom(model.name);
      const runner = await engine.load({
        name: model.name,
        path: model.path,
        contextTokens: this.#options.contextTokens,
        parallel: this.#options.parallel,
        threads: this.#options.threads,
        gpu: this.#options.gpu,
        loadTimeoutMs: this.#options.loadTimeoutMs,
      });
      events.emit("model-load-end", { model: model.name, ok: true, ms: clock.now() - started });
      return runner;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      events.emit("model-load-end", { model: model.name, ok: false, ms: clock.now() - started, error: message });
      throw error;
    }
  }

  #watchLoad(resident: Resident): void {
    if (resident.state.kind !== "loading") return;
    resident.state.ready.then(
      (runner) => {
        if (this.#residents.get(resident.name) !== resident) return;
        resident.state = { kind: "ready", runner, loadedMs: this.#options.clock.now() };
        void runner.exited.then((exit) => {
          if (this.#residents.get(resident.name) === resident && resident.state.kind === "ready" && resident.state.runner === runner) {
            this.#residents.delete(resident.name);
            this.#notifyIdle();
          }
          if (!exit.expected) {
            this.#options.logger.error(`Runner crashed: ${exit.detail}`, { model: resident.name });
            this.#options.events.emit("runner-crashed", { model: resident.name, pid: runner.info.pid, detail: exit.detail });
          }
        });
        if (resident.active === 0) this.#afterRequest(resident, undefined);
      },
      () => {
        // The load's error reaches every waiting request; forget the model so the next one retries.
        if (this.#residents.get(resident.name) === resident) this.#residents.delete(resident.name);
        this.#notifyIdle();
      },
    );
  }

  /** Waits until fewer than maxLoadedModels other models are resident, evicting idle ones. */
  async #makeRoom(loading: string): Promise<void> {
    for (;;) {
      const others = [...this.#residents.values()].filter((resident) => resident.name !== loading);
      if (others.length < this.#options.maxLoadedModels) return;
      const victim = findModelToEvict(others);
      if (victim !== undefined) {
        this.#options.events.emit("model-unloaded", { model: victim.name, reason: "evicted" });
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
    resident.lastUsedMs = this.#options.clock.now();
    if (keepAliveMs !== undefined) resident.keepAliveMs = keepAliveMs;
    if (resident.active > 0 || resident.state.kind !== "ready") return;
    this.#notifyIdle();
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
    const runner = state.kind === "ready" ? state.runner : await state.ready.catch(() => undefined);
    const done = (async () => {
      await runner?.dispose();
      if (this.#residents.get(resident.name) === resident) this.#residents.delete(resident.name);
      if (reason !== "evicted") this.#options.events.emit("model-unloaded", { model: resident.name, reason });
      this.#notifyIdle();
    })();
    resident.state = { kind: "unloading", done };
    return done;
  }
}
