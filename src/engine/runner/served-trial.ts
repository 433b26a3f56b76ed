/**
 * A served trial of decode thread counts (docs/decisions/0032): after a fresh calibration on a
 * small machine, single-stream generations take turns on each count (A B A B …) and their decode
 * rates — measured while the main process, the IPC and the client run beside ggml's threads, i.e.
 * what users get — decide the decode count. Pure bookkeeping; ThreadTuner applies the counts.
 */
import type { ThreadSample } from "../../gpu/index.js";

/** Decoded tokens each count needs before the trial ends. */
export const trialTokensPerCount = 256;
/**
 * Decode time each count needs too: on a fast model 256 tokens take ~0.2 s, too short to tell
 * two counts apart on a shared VM (stories260K's trial read 2T 2.7 % above 1T where the same
 * run's blocks measured 1.56×; ADR 0055).
 */
export const trialMsPerCount = 1000;
/** A generation shorter than this says little about a decode rate. */
const minimumTokens = 8;

export class ServedTrial {
  readonly #counts: readonly number[];
  readonly #tokens = new Map<number, number>();
  readonly #ms = new Map<number, number>();
  #index = 0;

  constructor(counts: readonly number[]) {
    this.#counts = counts;
  }

  /** The decode count the next single-stream generation should use. */
  get current(): number {
    return this.#counts[this.#index]!;
  }

  get isDone(): boolean {
    return this.#counts.every((count) => this.#hasEnough(count));
  }

  #hasEnough(count: number): boolean {
    return (
      (this.#tokens.get(count) ?? 0) >= trialTokensPerCount && (this.#ms.get(count) ?? 0) >= trialMsPerCount
    );
  }

  /** A single-stream generation on `current` decoded `tokens` in `decodeMs`; the next count takes over. */
  record(tokens: number, decodeMs: number): void {
    if (tokens < minimumTokens || decodeMs <= 0) return;
    const count = this.current;
    this.#tokens.set(count, (this.#tokens.get(count) ?? 0) + tokens);
    this.#ms.set(count, (this.#ms.get(count) ?? 0) + decodeMs);
    // Next the count with the least decode time so far, in order: A B A B … until each has enough.
    const pending = this.#counts
      .map((candidate, index) => ({ index, ms: this.#ms.get(candidate) ?? 0 }))
      .filter((entry) => !this.#hasEnough(this.#counts[entry.index]!));
    if (pending.length === 0) return;
    const others = pending.filter((entry) => entry.index !== this.#index);
    this.#index = (others.length > 0 ? others : pending).reduce((a, b) => (b.ms < a.ms ? b : a)).index;
  }

  /** Served decode rate per count. */
  samples(): ThreadSample[] {
    return this.#counts.map((threads) => ({
      threads,
      tokensPerSecond:
        Math.round(((this.#tokens.get(threads) ?? 0) * 10_000) / (this.#ms.get(threads) ?? 1)) / 10,
    }));
  }
}
