/**
 * ModelQueue, the in-process Scheduler: the request flow. Admit, wait for the model
 * (ResidencyManager) and for a sequence (ModelSlots) by priority, run, preempt a low request for
 * a waiting high one and resume it, release. Requests for different models never wait on each
 * other's loads. Policies: policies.ts; request-end: request-record.ts; views: queue-snapshot.ts.
 */
import {
  AppError,
  type EmbedResult,
  type GenerateRequest,
  type ResumeState,
  type StreamEvent,
  type TextFrameTemplate,
  type TokenizerRequest,
  type TokenizerResult,
} from "../core/index.js";
import type { ModelRunner, StreamLend } from "../engine/index.js";
import type { Socket } from "node:net";
import { Admission } from "./admission.js";
import type {
  EmbedRequest,
  OwnedScheduler,
  RequestState,
  SchedulerSnapshot,
  SubmitOptions,
} from "./contract.js";
import { ModelSlots, type SlotHolder } from "./model-slots.js";
import { isPreemptionInEffect, selectQueueOrdering } from "./policies.js";
import { buildSnapshot } from "./queue-snapshot.js";
import { RequestRegistry, type TrackedRequest } from "./request-registry.js";
import { originOf, RequestRecord } from "./request-record.js";
import { ResidencyManager } from "./residency-manager.js";
import type { Resident } from "./residency.js";
import type { SchedulerOptions } from "./scheduler-options.js";

interface Started {
  /** The model's residency the slot belongs to (a new one after a runner crash). */
  resident: Resident;
  runner: ModelRunner;
  holder: SlotHolder;
  loadMs: number;
}

interface StartOptions {
  isResumed: boolean;
  keepAliveMs: number | undefined;
  isPreemptible: boolean;
}

/** The scheduler the composition root owns. */
export function createScheduler(options: SchedulerOptions): OwnedScheduler {
  return new ModelQueue(options);
}

export class ModelQueue implements OwnedScheduler {
  readonly #options: SchedulerOptions;
  readonly #isPreemptionEnabled: boolean;
  readonly #residency: ResidencyManager;
  readonly #requests = new RequestRegistry();
  readonly #admission: Admission;
  #isClosed = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#isPreemptionEnabled = isPreemptionInEffect(options.queuePolicy, options.isPreemptionEnabled);
    this.#admission = new Admission(options);
    const ordering = selectQueueOrdering(options.queuePolicy, options.agingStepMs);
    this.#residency = new ResidencyManager({
      ...options,
      createSlots: () => new ModelSlots(options.parallel, ordering, options.time),
    });
  }

  async *generate(request: GenerateRequest, options: SubmitOptions): AsyncGenerator<StreamEvent> {
    const record = new RequestRecord(this.#options.time);
    const { request: tracked, untrack } = this.#requests.track({
      id: request.id,
      model: request.model,
      priority: request.priority,
      enqueuedMs: record.arrivedMs,
      clientSignal: options.signal,
    });
    try {
      yield* this.#run(request, options, { tracked, record });
    } catch (error) {
      const isAborted = tracked.controller.signal.aborted;
      record.failed(error, { isAborted });
      if (isAborted && !(error instanceof AppError && error.code !== "cancelled")) {
        throw new AppError("cancelled", "The request was cancelled.", { cause: error });
      }
      throw error;
    } finally {
      untrack();
      const { id: requestId, model, priority, preemptions } = tracked;
      const ended = record.endEvent({ requestId, model, priority, preemptions });
      this.#options.events.emit("request-end", { ...ended, ...originOf(request) });
    }
  }

  async embed(request: EmbedRequest, options: SubmitOptions): Promise<EmbedResult> {
    const { request: tracked, untrack } = this.#requests.track({
      id: request.id,
      model: request.model,
      priority: "normal",
      enqueuedMs: this.#options.time.monotonicNow(),
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
        this.#residency.release(started.resident, options.keepAliveMs);
      }
    } finally {
      untrack();
    }
  }

  async tokenizer(
    model: string,
    request: TokenizerRequest,
    options: SubmitOptions,
  ): Promise<TokenizerResult> {
    const resident = await this.#admit(model, undefined);
    this.#residency.hold(resident);
    try {
      const runner = await this.#residency.runnerOf(resident);
      return await runner.tokenizer(request, options.signal);
    } finally {
      this.#residency.release(resident, options.keepAliveMs);
    }
  }

  async preload(model: string, options: SubmitOptions): Promise<void> {
    const resident = await this.#admit(model, undefined);
    this.#residency.hold(resident);
    try {
      await this.#residency.runnerOf(resident);
    } finally {
      this.#residency.release(resident, options.keepAliveMs);
    }
  }

  async cancel(requestId: string): Promise<RequestState | undefined> {
    return this.#requests.cancel(requestId);
  }

  async unload(model: string): Promise<boolean> {
    return this.#residency.unload(model);
  }

  lendStream(
    requestId: string,
    socket: Socket,
    template: TextFrameTemplate,
  ): Promise<StreamLend | undefined> {
    const runner = this.#requests.get(requestId)?.runner;
    return runner?.lend?.(requestId, socket, template) ?? Promise.resolve(undefined);
  }

  snapshot(): SchedulerSnapshot {
    const { time, maxQueued, queuePolicy, agingStepMs, memoryBudgetBytes } = this.#options;
    return buildSnapshot({
      nowMs: time.monotonicNow(),
      settings: {
        queued: this.#admission.queued,
        maxQueued,
        policy: queuePolicy,
        isPreemptionEnabled: this.#isPreemptionEnabled,
        agingStepMs,
        memoryBudgetBytes,
      },
      residents: [...this.#residency.residents()],
      requests: [...this.#requests.values()],
    });
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    await this.#residency.close();
  }

  /** Queue, run, and on a preemption queue again and resume, until the generation ends. */
  async *#run(
    request: GenerateRequest,
    options: SubmitOptions,
    flow: { tracked: TrackedRequest; record: RequestRecord },
  ): AsyncGenerator<StreamEvent> {
    const { events } = this.#options;
    const { tracked, record } = flow;
    const admitted = await this.#admit(request.model, tracked);
    tracked.model = admitted.name;
    const isLoadPending = admitted.state.kind !== "ready";
    events.emit("request-queued", {
      requestId: request.id,
      model: admitted.name,
      priority: request.priority,
    });
    // A cluster request that lost its node arrives with the resume state its origin kept.
    let resume: ResumeState | undefined = request.resume;
    for (;;) {
      const started = await this.#startOn(admitted, tracked, {
        isResumed: resume !== undefined,
        keepAliveMs: options.keepAliveMs,
        // A JSON grammar's state cannot be carried over a preemption, nor a tool-calling chat's.
        isPreemptible: request.json === undefined && request.tools === undefined,
      });
      const model = started.resident.name;
      const queueMs = record.sequenceGranted(started.loadMs, { isLoadPending });
      events.emit(resume === undefined ? "request-started" : "request-resumed", {
        requestId: request.id,
        model,
        queueMs,
      });
      let preempted: ResumeState | undefined;
      tracked.runner = started.runner;
      try {
        for await (const event of started.runner.generate(
          { ...request, model, resume },
          tracked.controller.signal,
        )) {
          if (event.type === "preempted") {
            preempted = event.resume;
            record.completionTokens = event.usage.completionTokens;
            break;
          }
          if (event.type === "text-delta") {
            started.holder.isDecoding = true;
            const firstTokenMs = record.tokenArrived();
            if (firstTokenMs !== undefined)
              events.emit("first-token", { requestId: request.id, model, msSinceStart: firstTokenMs });
          }
          if (event.type === "end") record.ended(event);
          yield event.type === "end"
            ? { ...event, timings: { ...event.timings, loadMs: record.loadMs } }
            : event;
        }
      } finally {
        tracked.runner = undefined;
        started.resident.slots.recordService(record.runEnded());
        started.holder.release();
        this.#residency.release(started.resident, options.keepAliveMs);
      }
      if (preempted === undefined) return;
      resume = preempted;
      record.preempted();
      tracked.preemptions += 1;
      tracked.state = "queued";
      events.emit("request-preempted", {
        requestId: request.id,
        model,
        completionTokens: record.completionTokens,
        byRequestId: tracked.preemptedBy,
      });
    }
  }

  /** Resolves the model and, for a request, applies the queue limits; then the model's residency. */
  async #admit(name: string, tracked: TrackedRequest | undefined): Promise<Resident> {
    if (this.#isClosed)
      throw new AppError("shutting-down", "The server is shutting down; retry on another instance.", {
        retryAfterSeconds: 5,
      });
    const model = await this.#options.models.resolve(name);
    if (tracked !== undefined) this.#admission.check(model.name);
    return this.#residency.admit(model);
  }

  async #startOn(admitted: Resident, tracked: TrackedRequest, options: StartOptions): Promise<Started> {
    let resident = admitted;
    for (;;) {
      const started = await this.#waitForSlot(resident, tracked, options);
      if (started.runner.isAlive) return started;
      // The runner died while this request waited: give the slot back and wait on a reload.
      started.holder.release();
      this.#residency.release(resident, options.keepAliveMs);
      resident = await this.#admit(resident.name, undefined);
    }
  }

  async #waitForSlot(resident: Resident, tracked: TrackedRequest, options: StartOptions): Promise<Started> {
    const { time } = this.#options;
    this.#residency.hold(resident);
    const leaveQueue = this.#admission.enter(resident.name);
    try {
      const loadStartMs = time.monotonicNow();
      tracked.state = resident.state.kind === "ready" ? "queued" : "loading";
      const runner = await this.#residency.runnerOf(resident);
      const loadMs = time.monotonicNow() - loadStartMs;
      tracked.state = "queued";
      const acquiring = resident.slots.acquire({
        requestId: tracked.id,
        priority: tracked.priority,
        enqueuedMs: tracked.enqueuedMs,
        isResumed: options.isResumed,
        isPreemptible: this.#isPreemptionEnabled && options.isPreemptible,
        preemptions: tracked.preemptions,
        signal: tracked.controller.signal,
        queueTimeoutMs: this.#options.queueTimeoutMs,
      });
      this.#preemptForWaitingHigh(resident, runner, tracked.id);
      const holder = await acquiring;
      leaveQueue();
      tracked.state = "running";
      return { resident, runner, holder, loadMs };
    } catch (error) {
      leaveQueue();
      this.#residency.release(resident, options.keepAliveMs);
      throw error;
    }
  }

  #preemptForWaitingHigh(resident: Resident, runner: ModelRunner, byRequestId: string): void {
    if (!this.#isPreemptionEnabled) return;
    const victim = resident.slots.findVictimForWaitingHigh();
    if (victim === undefined) return;
    victim.isBeingPreempted = true;
    const tracked = this.#requests.get(victim.requestId);
    if (tracked !== undefined) tracked.preemptedBy = byRequestId;
    this.#options.logger.debug("Preempting a low-priority request", {
      model: resident.name,
      requestId: victim.requestId,
      byRequestId,
    });
    runner.preempt(victim.requestId);
  }
}
