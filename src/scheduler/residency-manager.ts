/**
 * ResidencyManager: which models are in memory. It loads a model once for every request that
 * needs it, makes room within the model-count and memory budgets (evicting idle models, least
 * recently used first, and waiting for their processes to exit), unloads idle models when their
 * keep-alive passes, and unloads on request or shutdown. It knows nothing of priorities or
 * sequences: the request flow (model-queue.ts) holds a model while it uses it and releases it after.
 */
import { addWall, AppError, formatBytes } from "../core/index.js";
import type { ModelRunner } from "../engine/index.js";
import type { MemoryEstimate } from "./memory-budget.js";
import type { ModelSlots } from "./model-slots.js";
import { resolveKeepAliveMs } from "./policies.js";
import { findModelToEvict, type Resident, type UnloadReason } from "./residency.js";
import type { ResolvedModel, SchedulerOptions } from "./scheduler-options.js";

export type ResidencyOptions = Pick<
  SchedulerOptions,
  | "engine"
  | "events"
  | "time"
  | "logger"
  | "contextTokens"
  | "parallel"
  | "threads"
  | "gpu"
  | "loadTimeoutMs"
  | "maxLoadedModels"
  | "memoryBudgetBytes"
  | "pinnedModels"
  | "keepAliveMs"
  | "estimateMemory"
> & {
  /** The sequences a newly admitted model gets (the request flow's policy decides their order). */
  createSlots: () => ModelSlots;
};

export class ResidencyManager {
  readonly #options: ResidencyOptions;
  readonly #residents = new Map<string, Resident>();
  readonly #idleWaiters = new Set<() => void>();

  constructor(options: ResidencyOptions) {
    this.#options = options;
  }

  residents(): IterableIterator<Resident> {
    return this.#residents.values();
  }

  get(name: string): Resident | undefined {
    return this.#residents.get(name);
  }

  /** The model's residency, loading it when absent; a model on its way out is loaded afresh once gone. */
  async admit(model: ResolvedModel): Promise<Resident> {
    let resident = this.#residents.get(model.name);
    while (resident?.state.kind === "unloading") {
      await resident.state.done;
      resident = this.#residents.get(model.name);
    }
    if (resident !== undefined) return resident;
    const { time, pinnedModels, keepAliveMs } = this.#options;
    const estimate = this.#options.estimateMemory(model);
    if (estimate.totalBytes > this.#options.memoryBudgetBytes) throw this.#neverFits(model.name, estimate);
    const isPinned = pinnedModels.includes(model.name);
    const created: Resident = {
      name: model.name,
      state: { kind: "loading", ready: Promise.resolve(undefined as never), startedMs: time.monotonicNow() },
      slots: this.#options.createSlots(),
      estimate,
      isPinned,
      active: 0,
      lastUsedMs: time.monotonicNow(),
      keepAliveMs: resolveKeepAliveMs({ isPinned, keepAliveMs }, undefined),
      expiresAtMs: undefined,
      idleTimer: undefined,
    };
    this.#residents.set(model.name, created);
    created.state = { kind: "loading", ready: this.#load(model, created), startedMs: time.monotonicNow() };
    this.#watchLoad(created);
    return created;
  }

  /** A request holds the model (queued, loading or running): it is neither evicted nor unloaded as idle. */
  hold(resident: Resident): void {
    resident.active += 1;
    resident.idleTimer?.cancel();
    resident.expiresAtMs = undefined;
  }

  /** A request is done with the model; `keepAliveMs` is what it asked for (undefined: unchanged). */
  release(resident: Resident, keepAliveMs: number | undefined): void {
    resident.active = Math.max(0, resident.active - 1);
    resident.lastUsedMs = this.#options.time.monotonicNow();
    resident.keepAliveMs = resolveKeepAliveMs(resident, keepAliveMs);
    if (resident.active > 0 || resident.state.kind !== "ready") return;
    this.#notifyIdle();
    this.#scheduleIdleUnload(resident);
  }

  async runnerOf(resident: Resident): Promise<ModelRunner> {
    const state = resident.state;
    if (state.kind === "ready") return state.runner;
    if (state.kind === "loading") return state.ready;
    throw new AppError(
      "model-load-failed",
      `Model "${resident.name}" is being unloaded; retry in a moment.`,
      { retryAfterSeconds: 1 },
    );
  }

  /** Unloads a model now; its running requests fail. Returns whether it was loaded. */
  async unload(name: string): Promise<boolean> {
    const resident = this.#residents.get(name);
    if (resident === undefined) return false;
    await this.#unload(resident, "requested");
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#residents.values()].map((resident) => this.#unload(resident, "shutdown")));
  }

  #neverFits(name: string, estimate: MemoryEstimate): AppError {
    const { parallel, contextTokens, memoryBudgetBytes } = this.#options;
    return new AppError(
      "insufficient-memory",
      `Model "${name}" needs about ${formatBytes(estimate.totalBytes)} (weights ${formatBytes(estimate.weightsBytes)}, KV cache ${formatBytes(estimate.kvCacheBytes)} for ${parallel} × ${contextTokens} tokens, compute ${formatBytes(estimate.computeBytes)}) but the memory budget is ${formatBytes(memoryBudgetBytes)}. Lower --context-size or --parallel, use a smaller quantisation, or raise --memory-budget.`,
    );
  }

  async #load(model: ResolvedModel, resident: Resident): Promise<ModelRunner> {
    const { events, engine, time } = this.#options;
    const startedMs = time.monotonicNow();
    events.emit("model-load-start", { model: model.name });
    try {
      await this.#makeRoom(resident);
      const runner = await engine.load({
        name: model.name,
        path: model.path,
        contextTokens: this.#options.contextTokens,
        parallel: this.#options.parallel,
        threads: this.#options.threads,
        gpu: this.#options.gpu,
        loadTimeoutMs: this.#options.loadTimeoutMs,
      });
      events.emit("model-load-end", { model: model.name, ok: true, ms: time.monotonicNow() - startedMs });
      return runner;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const ms = time.monotonicNow() - startedMs;
      events.emit("model-load-end", { model: model.name, ok: false, ms, error: message });
      throw error;
    }
  }

  #watchLoad(resident: Resident): void {
    if (resident.state.kind !== "loading") return;
    resident.state.ready.then(
      (runner) => {
        if (this.#residents.get(resident.name) !== resident) return;
        resident.state = { kind: "ready", runner, loadedMs: this.#options.time.monotonicNow() };
        void runner.exited.then((exit) => {
          const state = resident.state;
          if (
            this.#residents.get(resident.name) === resident &&
            state.kind === "ready" &&
            state.runner === runner
          ) {
            this.#residents.delete(resident.name);
            this.#notifyIdle();
          }
          if (!exit.expected) {
            this.#options.logger.error(`Runner crashed: ${exit.detail}`, { model: resident.name });
            const crash = { model: resident.name, pid: runner.info.pid, detail: exit.detail };
            this.#options.events.emit("runner-crashed", crash);
          }
        });
        if (resident.active === 0) this.#scheduleIdleUnload(resident);
      },
      () => {
        // The load's error reaches every waiting request; forget the model so the next one retries.
        if (this.#residents.get(resident.name) === resident) this.#residents.delete(resident.name);
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
    const { maxLoadedModels, memoryBudgetBytes } = this.#options;
    for (;;) {
      const others = [...this.#residents.values()].filter((resident) => resident !== loading);
      const usedBytes = others.reduce((sum, resident) => sum + resident.estimate.totalBytes, 0);
      if (others.length < maxLoadedModels && usedBytes + loading.estimate.totalBytes <= memoryBudgetBytes)
        return;
      const victim = findModelToEvict(others);
      if (victim === undefined && others.every((resident) => resident.isPinned)) {
        // Waiting cannot help: pinned models never leave.
        throw new AppError(
          "insufficient-memory",
          `Cannot load model "${loading.name}": the pinned models ${others.map((resident) => `"${resident.name}"`).join(", ")} use the room (--max-loaded-models ${maxLoadedModels}, memory budget ${formatBytes(memoryBudgetBytes)}). Unpin one (--pin) or raise the limits.`,
        );
      }
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

  /** Keep-alive: the timer runs on monotonic time; the expiry users see is a wall time. */
  #scheduleIdleUnload(resident: Resident): void {
    const { time } = this.#options;
    resident.idleTimer?.cancel();
    if (resident.keepAliveMs < 0) {
      resident.expiresAtMs = undefined;
      return;
    }
    resident.expiresAtMs = addWall(time.wallNow(), resident.keepAliveMs);
    resident.idleTimer = time
      .setTimeout(() => {
        if (resident.active === 0) void this.#unload(resident, "idle");
      }, resident.keepAliveMs)
      .unref();
  }

  #notifyIdle(): void {
    for (const wake of [...this.#idleWaiters]) wake();
  }

  async #unload(resident: Resident, reason: UnloadReason): Promise<void> {
    resident.idleTimer?.cancel();
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
      if (this.#residents.get(resident.name) === resident) this.#residents.delete(resident.name);
      if (reason !== "evicted") this.#options.events.emit("model-unloaded", { model: resident.name, reason });
      this.#notifyIdle();
    })();
    resident.state = { kind: "unloading", done };
    return done;
  }
}
