/**
 * Coalesces a runner's outgoing generation events into fewer IPC messages: at most one message
 * per `windowMs`. An event that comes when nothing was sent for `windowMs` goes out at once (the
 * first token, and every token of a stream slower than the window, is never delayed); events
 * that follow closer than that wait together until the window ends. Each message costs the
 * main process a wake-up and a read, and the socket write it leads to (issue #17, ADR 0019).
 * With `merge`, items of one key that wait together become one (ADR 0039: one text-delta per
 * generation per message, so the main process handles one event, not one per token).
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
  /**
   * Folds `item` into `into`, an item still waiting, and returns true; or returns false and
   * `item` waits on its own. Asked only for the latest waiting item of the same `keyOf`, so
   * items of one key keep their order. Absent: every item is sent on its own.
   */
  merge?: ((into: T, item: T) => boolean) | undefined;
  keyOf?: ((item: T) => string) | undefined;
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
    this.#add(item);
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
    this.#add(item);
    this.#sendPending(this.#options.time.monotonicNow());
  }

  /** Sends whatever waits now (before a message that must not overtake it). */
  flush(): void {
    if (this.#pending.length > 0) this.#sendPending(this.#options.time.monotonicNow());
  }

  /**
   * Removes and returns the waiting items of `key` (keyOf), in order; the others keep waiting.
   * For items that will leave another way (a lent socket, ADR 0056).
   */
  take(key: string): T[] {
    const keyOf = this.#options.keyOf;
    if (keyOf === undefined) return [];
    const taken: T[] = [];
    let kept = 0;
    for (const item of this.#pending) {
      if (keyOf(item) === key) taken.push(item);
      else this.#pending[kept++] = item;
    }
    this.#pending.length = kept;
    if (kept === 0) {
      this.#timer?.cancel();
      this.#timer = undefined;
    }
    return taken;
  }

  /** Items of `key` waiting (keyOf); 0 without keyOf. */
  pendingOf(key: string): readonly T[] {
    const keyOf = this.#options.keyOf;
    return keyOf === undefined ? [] : this.#pending.filter((item) => keyOf(item) === key);
  }

  /** Cancels the timer; items still waiting are sent. */
  dispose(): void {
    this.flush();
  }

  #add(item: T): void {
    const { merge, keyOf } = this.#options;
    if (merge !== undefined && keyOf !== undefined) {
      const key = keyOf(item);
      for (let index = this.#pending.length - 1; index >= 0; index--) {
        const waiting = this.#pending[index]!;
        if (keyOf(waiting) !== key) continue;
        if (merge(waiting, item)) return;
        break;
      }
    }
    this.#pending.push(item);
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
