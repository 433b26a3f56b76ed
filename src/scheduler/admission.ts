/**
 * Admission: how many requests wait (for a load or a sequence), in all and per model, and the
 * limits that turn a new one away at once with queue-full (back-pressure fails fast).
 */
import { AppError } from "../core/index.js";

export class Admission {
  readonly #maxQueued: number;
  readonly #maxQueuedPerModel: number;
  #queued = 0;
  readonly #queuedByModel = new Map<string, number>();

  constructor(limits: { maxQueued: number; maxQueuedPerModel: number }) {
    this.#maxQueued = limits.maxQueued;
    this.#maxQueuedPerModel = limits.maxQueuedPerModel;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Throws queue-full when one more request for `model` would pass a limit. */
  check(model: string): void {
    if (this.#queued >= this.#maxQueued) {
      throw new AppError(
        "queue-full",
        `The server is busy: ${this.#queued} requests are already queued (--max-queue ${this.#maxQueued}). Retry later.`,
        { retryAfterSeconds: 2 },
      );
    }
    const forModel = this.#queuedByModel.get(model) ?? 0;
    if (forModel >= this.#maxQueuedPerModel) {
      throw new AppError(
        "queue-full",
        `Model "${model}" is busy: ${forModel} requests are already queued for it (--max-queue-per-model ${this.#maxQueuedPerModel}). Retry later.`,
        { retryAfterSeconds: 2 },
      );
    }
  }

  /** Counts a request in the queue; the returned function takes it out (idempotent). */
  enter(model: string): () => void {
    this.#count(model, +1);
    let hasLeft = false;
    return () => {
      if (hasLeft) return;
      hasLeft = true;
      this.#count(model, -1);
    };
  }

  #count(model: string, delta: number): void {
    this.#queued += delta;
    this.#queuedByModel.set(model, (this.#queuedByModel.get(model) ?? 0) + delta);
  }
}
