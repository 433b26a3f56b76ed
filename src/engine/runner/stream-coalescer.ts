/**
 * Coalesces a runner's outgoing generation events into fewer IPC messages: at most one message
 * per `windowMs`. An event that comes when nothing was sent for `windowMs` goes out at once (the
 * first token, and every token of a stream slower than the window, is never delayed); events
 * that follow closer than that wait together until the window ends. Each message costs the
 * main process a wake-up and a read, and the socket write it leads to (issue #17, ADR 0019).
 */
import type { MonotonicMs, TimePort, Timer } from "../../core/index.js";

export interface StreamCoalescerOptions<T> {
  /** Minimum spacing of messages in ms; 0 sends every item on its own, at once. */
  windowMs: number;
  /** A message carries at most this many items; a full one goes out at once. */
  maxItems: number;
  time: TimePort;
  /**
   * Sends one message. The array is reused after the call returns: serialise it synchronously
   * (process.send does) and keep no reference to it.
   */
  send: (items: readonly T[]) => void;
}

export class StreamCoalescer<T> {
  readonly #options: StreamCoalescerOptions<T>;
  readonly #pending: T[] = [];
  #lastSentMs: MonotonicMs | undefined;
  #timer: Timer | undefined;
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.flush();
  };

  constructor(options: StreamCoalescerOptions<T>) {
    this.#options = options;
  }

  /** Items waiting for the window to end. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Queues `item`; sends now when the window allows it or the message is full. */
  push(item: T): void {
    this.#pending.push(item);
    if (this.#timer !== undefined && this.#pending.length < this.#options.maxItems) return;
    const nowMs = this.#options.time.monotonicNow();
    const waitMs = this.#lastSentMs === undefined ? 0 : this.#lastSentMs + this.#options.windowMs - nowMs;
    if (waitMs <= 0 || this.#pending.length >= this.#options.maxItems) {
      this.#sendPending(nowMs);
    } else if (this.#timer === undefined) {
      this.#timer = this.#options.time.setTimeout(this.#onTimer, waitMs);
    }
  }

  /** Queues `item` and sends it now with what waits before it (say a generation's last event). */
  pushUrgent(item: T): void {
    this.#pending.push(item);
    this.#sendPending(this.#options.time.monotonicNow());
  }

  /** Sends whatever waits now (before a message that must not overtake it). */
  flush(): void {
    if (this.#pending.length > 0) this.#sendPending(this.#options.time.monotonicNow());
  }

  /** Cancels the timer; items still waiting are sent. */
  dispose(): void {
    this.flush();
  }

  #sendPending(nowMs: MonotonicMs): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#lastSentMs = nowMs;
    try {
      this.#options.send(this.#pending);
    } finally {
      this.#pending.length = 0;
    }
  }
}
