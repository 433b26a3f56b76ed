/**
 * Failed authentication, limited per source address: after `maxFailures` failures within
 * `windowMs`, the address is refused (429 with Retry-After) until its window ends. A success
 * does not reset the count, so a guesser cannot interleave one good key to keep guessing.
 */
import { systemTime, type TimePort } from "../core/index.js";

export interface AuthRateLimitOptions {
  /** 0: no limit. */
  maxFailures: number;
  windowMs: number;
  time?: TimePort;
}

interface Window {
  startMs: number;
  failures: number;
}

/** Addresses kept at most; beyond it, expired windows are dropped first. */
const maxTrackedAddresses = 10_000;

export class AuthRateLimiter {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #time: TimePort;
  readonly #windows = new Map<string, Window>();

  constructor(options: AuthRateLimitOptions) {
    this.#maxFailures = options.maxFailures;
    this.#windowMs = options.windowMs;
    this.#time = options.time ?? systemTime;
  }

  /** Seconds until this address may try again, or undefined when it may now. */
  retryAfterSeconds(address: string): number | undefined {
    if (this.#maxFailures === 0) return undefined;
    const window = this.#current(address);
    if (window === undefined || window.failures < this.#maxFailures) return undefined;
    const leftMs = window.startMs + this.#windowMs - this.#time.monotonicNow();
    return Math.max(1, Math.ceil(leftMs / 1000));
  }

  recordFailure(address: string): void {
    if (this.#maxFailures === 0) return;
    const window = this.#current(address);
    if (window !== undefined) {
      window.failures++;
      return;
    }
    if (this.#windows.size >= maxTrackedAddresses) this.#prune();
    this.#windows.set(address, { startMs: this.#time.monotonicNow(), failures: 1 });
  }

  #current(address: string): Window | undefined {
    const window = this.#windows.get(address);
    if (window === undefined) return undefined;
    if (this.#time.monotonicNow() - window.startMs < this.#windowMs) return window;
    this.#windows.delete(address);
    return undefined;
  }

  #prune(): void {
    for (const address of [...this.#windows.keys()]) this.#current(address);
    // Still full of live windows (a spray of addresses): forget the oldest.
    const oldest = this.#windows.keys().next();
    if (this.#windows.size >= maxTrackedAddresses && oldest.done !== true) this.#windows.delete(oldest.value);
  }
}
