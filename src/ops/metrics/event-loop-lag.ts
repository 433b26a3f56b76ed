/**
 * One event-loop lag sampler for the whole server, read by several consumers (the metrics
 * collector every aggregation, the SLA monitor every health round), each over its own interval.
 * Until ADR 0043 each had its own perf_hooks monitor: two timers, 20 wake-ups a second of an
 * idle server, each taking a core from the runner's decode threads while streaming (issue #17).
 * perf_hooks' histogram of one monitor cannot be split between readers, so this samples with
 * one timer of the time port and records each tick's delay into every reader's histogram.
 */
import { createHistogram, type RecordableHistogram } from "node:perf_hooks";
import type { MonotonicMs, TimePort, Timer } from "../../core/index.js";
import type { EventLoopLag } from "./server-state.js";

/** One consumer's view: `take()` reads the figures since its last take and starts a new interval. */
export interface EventLoopLagReader {
  take(): EventLoopLag | undefined;
}

export interface EventLoopLagSamplerOptions {
  time: TimePort;
  /**
   * Spacing of the ticks. 100 ms (perf_hooks' default is 10, which woke an idle server 100
   * times a second) still catches a blocked loop within any aggregation or health interval.
   */
  resolutionMs?: number;
}

export class EventLoopLagSampler {
  readonly #time: TimePort;
  readonly #resolutionMs: number;
  readonly #histograms: RecordableHistogram[] = [];
  #timer: Timer | undefined;
  #lastTickMs: MonotonicMs | undefined;

  constructor(options: EventLoopLagSamplerOptions) {
    this.#time = options.time;
    this.#resolutionMs = options.resolutionMs ?? 100;
  }

  get isRunning(): boolean {
    return this.#timer !== undefined;
  }

  /** A new reader; it sees the ticks from now on. */
  reader(): EventLoopLagReader {
    const histogram = createHistogram();
    this.#histograms.push(histogram);
    return { take: () => this.#take(histogram) };
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#lastTickMs = this.#time.monotonicNow();
    this.#timer = this.#time.setInterval(this.#tick, this.#resolutionMs).unref();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  readonly #tick = (): void => {
    const nowMs = this.#time.monotonicNow();
    // The time between two ticks in µs (at least 1: a histogram records positive integers).
    const elapsedUs = Math.max(1, Math.round((nowMs - (this.#lastTickMs ?? nowMs)) * 1000));
    this.#lastTickMs = nowMs;
    for (const histogram of this.#histograms) histogram.record(elapsedUs);
  };

  #take(histogram: RecordableHistogram): EventLoopLag | undefined {
    if (histogram.count === 0) return undefined;
    const excess = (microseconds: number): number => Math.max(0, microseconds / 1000 - this.#resolutionMs);
    const lag = {
      p50Ms: excess(histogram.percentile(50)),
      p99Ms: excess(histogram.percentile(99)),
      maxMs: excess(histogram.max),
      meanMs: excess(histogram.mean),
    };
    histogram.reset();
    return lag;
  }
}
