/**
 * One model's sequence slots and its wait list. A slot goes to the waiting request the
 * ordering policy ranks first; acquire hands back a holder whose `release` frees the slot, so
 * release hangs off a `finally` and cannot leak. It also keeps the smoothed service time the
 * queue's ETAs come from.
 */
import { AppError, type MonotonicMs, type Priority, type TimePort, type Timer } from "../core/index.js";
import {
  choosePreemptionVictim,
  smoothServiceMs,
  type QueueOrdering,
  type RunningRequest,
  type WaitingRequest,
} from "./policies.js";

export interface SlotHolder extends RunningRequest {
  release(): void;
}

interface Waiter extends WaitingRequest {
  isPreemptible: boolean;
  preemptions: number;
  grant: (holder: SlotHolder) => void;
  reject: (error: Error) => void;
}

export interface AcquireOptions {
  requestId: string;
  priority: Priority;
  enqueuedMs: MonotonicMs;
  isResumed: boolean;
  isPreemptible: boolean;
  preemptions: number;
  signal: AbortSignal;
  /** Give up after this long in the queue; -1 waits without limit. */
  queueTimeoutMs: number;
}

let nextSequenceNumber = 0;

export class ModelSlots {
  readonly parallel: number;
  readonly #ordering: QueueOrdering;
  readonly #time: TimePort;
  readonly #waiting: Waiter[] = [];
  readonly running = new Map<string, SlotHolder>();
  #averageServiceMs: number | undefined;

  constructor(parallel: number, ordering: QueueOrdering, time: TimePort) {
    this.parallel = parallel;
    this.#ordering = ordering;
    this.#time = time;
  }

  /** Smoothed time a request holds a sequence, for queue ETAs; undefined until one run ends. */
  get averageServiceMs(): number | undefined {
    return this.#averageServiceMs;
  }

  recordService(ms: number): void {
    this.#averageServiceMs = smoothServiceMs(this.#averageServiceMs, ms);
  }

  get waiting(): readonly WaitingRequest[] {
    const now = this.#time.monotonicNow();
    return [...this.#waiting].sort((a, b) => this.#ordering(a, b, now));
  }

  get freeSlots(): number {
    return this.parallel - this.running.size;
  }

  acquire(options: AcquireOptions): Promise<SlotHolder> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void =>
        this.#drop(waiter, new AppError("cancelled", "The request was cancelled while queued."));
      const timer: Timer | undefined =
        options.queueTimeoutMs >= 0
          ? this.#time.setTimeout(
              () =>
                this.#drop(
                  waiter,
                  new AppError(
                    "queue-timeout",
                    `The request waited ${options.queueTimeoutMs} ms for a free sequence (--queue-timeout) and was dropped; retry later.`,
                    { retryAfterSeconds: 5 },
                  ),
                ),
              options.queueTimeoutMs,
            )
          : undefined;
      const cleanup = (): void => {
        timer?.cancel();
        options.signal.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        requestId: options.requestId,
        priority: options.priority,
        enqueuedMs: options.enqueuedMs,
        sequenceNumber: nextSequenceNumber++,
        isResumed: options.isResumed,
        isPreemptible: options.isPreemptible,
        preemptions: options.preemptions,
        grant: (holder) => {
          cleanup();
          resolve(holder);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      if (options.signal.aborted) {
        waiter.reject(new AppError("cancelled", "The request was cancelled while queued."));
        return;
      }
      options.signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
      this.#dispatch();
    });
  }

  /** A running request to preempt for a waiting high-priority one, if the policy finds one. */
  findVictimForWaitingHigh(): SlotHolder | undefined {
    if (this.freeSlots > 0) return undefined;
    const waitingHigh = this.#waiting.filter((waiter) => waiter.priority === "high").length;
    const beingPreempted = [...this.running.values()].filter((holder) => holder.isBeingPreempted).length;
    if (waitingHigh <= beingPreempted) return undefined;
    const victim = choosePreemptionVictim(this.running.values());
    return victim === undefined ? undefined : this.running.get(victim.requestId);
  }

  /** Fails every waiter (the model failed to load, or the server is stopping). */
  rejectAll(error: Error): void {
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }

  #drop(waiter: Waiter, error: Error): void {
    const index = this.#waiting.indexOf(waiter);
    if (index === -1) return;
    this.#waiting.splice(index, 1);
    waiter.reject(error);
  }

  #dispatch(): void {
    while (this.freeSlots > 0 && this.#waiting.length > 0) {
      const now = this.#time.monotonicNow();
      let best = 0;
      for (let index = 1; index < this.#waiting.length; index++) {
        if (this.#ordering(this.#waiting[index]!, this.#waiting[best]!, now) < 0) best = index;
      }
      const waiter = this.#waiting.splice(best, 1)[0]!;
      let isReleased = false;
      const holder: SlotHolder = {
        requestId: waiter.requestId,
        priority: waiter.priority,
        startedMs: now,
        isPreemptible: waiter.isPreemptible,
        isBeingPreempted: false,
        isDecoding: false,
        preemptions: waiter.preemptions,
        release: () => {
          if (isReleased) return;
          isReleased = true;
          this.running.delete(waiter.requestId);
          this.#dispatch();
        },
      };
      this.running.set(waiter.requestId, holder);
      waiter.grant(holder);
    }
  }
}
