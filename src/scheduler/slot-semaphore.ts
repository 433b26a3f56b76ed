/**
 * Per-model sequence slots: `permits` generations at once, FIFO waiters. Acquire returns the
 * release function, so release hangs off a `finally` and a permit cannot leak (STYLE.md §2).
 */
import { AppError } from "../core/index.js";

interface Waiter {
  grant: (release: () => void) => void;
  reject: (error: unknown) => void;
}

export class SlotSemaphore {
  readonly #permits: number;
  #inUse = 0;
  readonly #waiters: Waiter[] = [];

  constructor(permits: number) {
    this.#permits = permits;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  acquire(signal: AbortSignal, deadlineMs: number): Promise<() => void> {
    if (this.#inUse < this.#permits && this.#waiters.length === 0) {
      this.#inUse += 1;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const remove = (error: AppError): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) this.#waiters.splice(index, 1);
        waiter.reject(error);
      };
      const onAbort = (): void => remove(new AppError("cancelled", "The request was cancelled while queued."));
      const timer =
        deadlineMs >= 0
          ? setTimeout(
              () => remove(new AppError("queue-timeout", `The request waited ${deadlineMs} ms for a free sequence (--queue-timeout) and was dropped; retry later.`, { retryAfterSeconds: 5 })),
              deadlineMs,
            )
          : undefined;
      const cleanup = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
      if (signal.aborted) onAbort();
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next !== undefined) next.grant(this.#releaser());
      else this.#inUse -= 1;
    };
  }
}
