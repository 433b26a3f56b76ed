/**
 * A push-to-pull bridge: a producer pushes items, one consumer pulls them with `for await`.
 * `onPull` reports each item the consumer took, which drives flow-control credits; `onClose`
 * runs once when the consumer stops early (break, throw) so the producer can cancel.
 */
export interface EventChannelHooks<T> {
  onPull?: (item: T) => void;
  onClose?: () => void;
}

export class EventChannel<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #rejectWaiting: ((error: unknown) => void) | undefined;
  #ended = false;
  #error: unknown;
  #hasError = false;
  readonly #hooks: EventChannelHooks<T>;
  #closed = false;

  constructor(hooks: EventChannelHooks<T> = {}) {
    this.#hooks = hooks;
  }

  /** Items pushed but not yet pulled. */
  get bufferedCount(): number {
    return this.#items.length;
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  push(item: T): void {
    if (this.#ended) return;
    if (this.#waiting !== undefined) {
      const resolve = this.#waiting;
      this.#clearWaiting();
      this.#hooks.onPull?.(item);
      resolve({ value: item, done: false });
    } else {
      this.#items.push(item);
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiting !== undefined && this.#items.length === 0) {
      const resolve = this.#waiting;
      this.#clearWaiting();
      resolve({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hasError = true;
    this.#error = error;
    if (this.#waiting !== undefined && this.#items.length === 0) {
      const reject = this.#rejectWaiting!;
      this.#clearWaiting();
      reject(error);
    }
  }

  #clearWaiting(): void {
    this.#waiting = undefined;
    this.#rejectWaiting = undefined;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#ended) this.#hooks.onClose?.();
    this.#ended = true;
    this.#items.length = 0;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.#items.length > 0) {
          const item = this.#items.shift()!;
          this.#hooks.onPull?.(item);
          return Promise.resolve({ value: item, done: false });
        }
        if (this.#hasError) return Promise.reject(this.#error);
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          this.#waiting = resolve;
          this.#rejectWaiting = reject;
        });
      },
      return: () => {
        this.#close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
