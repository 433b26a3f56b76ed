/**
 * A manual `TimePort` for tests: time moves only when the test says so. It ships beside its port
 * (like gpu's fake probes) because every component's tests, in and out of src/, drive time with it.
 */
import { sleepOn, type MonotonicMs, type TimePort, type Timer, type WallMs } from "./time.js";

interface PendingTimer {
  readonly id: number;
  dueMs: number;
  readonly intervalMs: number | undefined;
  readonly callback: () => void;
}

export interface FakeTimeOptions {
  /** Initial monotonic reading, ms. Default 0. */
  monotonicMs?: number;
  /** Initial wall reading, ms since the epoch. Default 2026-01-01T00:00:00Z. */
  wallMs?: number;
}

/** Lets every already-queued promise callback (and those they queue) run; I/O-free chains settle. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeTime implements TimePort {
  #monotonicMs: number;
  #wallOffsetMs: number;
  #nextId = 1;
  readonly #timers = new Map<number, PendingTimer>();

  constructor(options: FakeTimeOptions = {}) {
    this.#monotonicMs = options.monotonicMs ?? 0;
    this.#wallOffsetMs = (options.wallMs ?? Date.UTC(2026, 0, 1)) - this.#monotonicMs;
  }

  monotonicNow(): MonotonicMs {
    return this.#monotonicMs as MonotonicMs;
  }

  wallNow(): WallMs {
    return (this.#monotonicMs + this.#wallOffsetMs) as WallMs;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    return this.#schedule(callback, Math.max(0, delayMs), undefined);
  }

  setInterval(callback: () => void, intervalMs: number): Timer {
    const every = Math.max(1, intervalMs);
    return this.#schedule(callback, every, every);
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }

  /** Timers still waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Steps the wall clock alone (an NTP step, a DST-free calendar jump); monotonic time stays. */
  setWall(wallMs: number): void {
    this.#wallOffsetMs = wallMs - this.#monotonicMs;
  }

  /** Moves time forward `ms`, firing due timers in order, synchronously (no promise callbacks run between). */
  advance(ms: number): void {
    const target = this.#monotonicMs + Math.max(0, ms);
    for (let next = this.#nextDue(target); next; next = this.#nextDue(target)) this.#fire(next);
    this.#monotonicMs = target;
  }

  /**
   * Moves time forward `ms`, firing due timers in order and letting promise callbacks settle
   * before and after each one: what a real wait of `ms` looks like to async code.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#monotonicMs + Math.max(0, ms);
    await flushMicrotasks();
    for (let next = this.#nextDue(target); next; next = this.#nextDue(target)) {
      this.#fire(next);
      await flushMicrotasks();
    }
    this.#monotonicMs = target;
    await flushMicrotasks();
  }

  /** Advances in `stepMs` steps until `predicate()` holds; throws after `maxMs` of fake time. */
  async advanceUntil(
    predicate: () => boolean,
    options: { stepMs?: number; maxMs?: number } = {},
  ): Promise<void> {
    const stepMs = options.stepMs ?? 1;
    const maxMs = options.maxMs ?? 60_000;
    const start = this.#monotonicMs;
    await flushMicrotasks();
    while (!predicate()) {
      if (this.#monotonicMs - start >= maxMs)
        throw new Error(`FakeTime.advanceUntil: condition still false after ${maxMs} ms of fake time`);
      await this.advanceAsync(stepMs);
    }
  }

  #schedule(callback: () => void, delayMs: number, intervalMs: number | undefined): Timer {
    const id = this.#nextId++;
    this.#timers.set(id, { id, dueMs: this.#monotonicMs + delayMs, intervalMs, callback });
    const timer: Timer = { cancel: () => this.#timers.delete(id), unref: () => timer };
    return timer;
  }

  #nextDue(targetMs: number): PendingTimer | undefined {
    let next: PendingTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (
        timer.dueMs <= targetMs &&
        (!next || timer.dueMs < next.dueMs || (timer.dueMs === next.dueMs && timer.id < next.id))
      )
        next = timer;
    }
    return next;
  }

  #fire(timer: PendingTimer): void {
    this.#monotonicMs = Math.max(this.#monotonicMs, timer.dueMs);
    if (timer.intervalMs === undefined) this.#timers.delete(timer.id);
    else timer.dueMs += timer.intervalMs;
    timer.callback();
  }
}
