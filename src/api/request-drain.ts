/**
 * Graceful shutdown of the serving path, in two steps the composition root sequences: `drain()`
 * refuses new work (503 with Retry-After) while the running requests go on, and `stop()` cuts
 * what still runs after --shutdown-grace, so each stream ends with a final error event of its
 * dialect instead of a torn connection. The listening socket stays open through both, so
 * clients and load balancers get answers (/ready: 503) rather than refused connections.
 */
import { setMaxListeners } from "node:events";
import { AppError, systemTime, type TimePort } from "../core/index.js";

/** Seconds a refused client should wait: long enough for a restarted server or another instance. */
const retryAfterSeconds = 5;

export class RequestDrain {
  readonly #time: TimePort;
  readonly #stop = new AbortController();
  #active = 0;
  #isDraining = false;
  readonly #idleWaiters = new Set<() => void>();

  constructor(time: TimePort = systemTime) {
    this.#time = time;
    // Every running request listens here, so more than 10 at once is normal, not a leak: without
    // this, Node prints MaxListenersExceededWarning under ordinary load (seen in the queue bench).
    setMaxListeners(0, this.#stop.signal);
  }

  get isDraining(): boolean {
    return this.#isDraining;
  }

  /** Requests that entered and have not left yet. */
  get activeCount(): number {
    return this.#active;
  }

  /** Aborts when running requests must end (the grace period is over). */
  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  /**
   * Admits one request that starts work on a model; throws `shutting-down` while draining.
   * Returns its `leave`, which is idempotent.
   */
  enter(): () => void {
    if (this.#isDraining)
      throw new AppError(
        "shutting-down",
        "The server is shutting down and takes no new requests; retry in a moment or on another instance.",
        { retryAfterSeconds },
      );
    this.#active += 1;
    let hasLeft = false;
    return () => {
      if (hasLeft) return;
      hasLeft = true;
      this.#active -= 1;
      if (this.#active === 0) for (const wake of [...this.#idleWaiters]) wake();
    };
  }

  drain(): void {
    this.#isDraining = true;
  }

  /** Ends every running request with a shutting-down error (after `drain`). */
  stop(): void {
    this.#isDraining = true;
    this.#stop.abort();
  }

  /** Resolves true once no request is active, or false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (isIdle: boolean): void => {
        this.#idleWaiters.delete(onIdle);
        timer.cancel();
        resolve(isIdle);
      };
      const onIdle = (): void => wake(true);
      const timer = this.#time.setTimeout(() => wake(false), timeoutMs);
      this.#idleWaiters.add(onIdle);
    });
  }
}
