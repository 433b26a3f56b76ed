/**
 * One event-loop lag sampler for the whole server, read by several consumers (the metrics
 * collector every aggregation, the SLA monitor every health round), each over its own interval.
 * Until ADR 0043 each had its own perf_hooks monitor: two native timers. One histogram cannot be
 * reset by two readers, so each take first drains the histogram into every reader's summary of
 * the intervals it has not read yet (p99 and max: the largest seen; p50 and mean: weighted by
 * sample count), then hands the taker its summary. The timer is perf_hooks' own (native, no
 * JavaScript per tick: a JS timer measured more idle CPU).
 *
 * The server marks itself idle while it holds no HTTP connection (ADR 0052): the timer stops, so
 * an idle server is not woken four times a second for a figure nobody waits on. An interval that
 * the sampler spent idle, with no sample, reads as no lag (zeros), not as "not measured".
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { EventLoopLag } from "./server-state.js";

/** One consumer's view: `take()` reads the figures since its last take and starts a new interval. */
export interface EventLoopLagReader {
  take(): EventLoopLag | undefined;
}

/** What the sampler reads of perf_hooks' histogram (in ns); tests pass a recordable one. */
export interface DelayHistogram {
  readonly count: number;
  readonly max: number;
  readonly mean: number;
  percentile(percentile: number): number;
  reset(): void;
}

export interface EventLoopLagSamplerOptions {
  /**
   * Spacing of the ticks, default 250 ms. Each tick is a wake-up of the main process: at 100 ms
   * (ADR 0039) a third of its wake-ups while streaming (strace: IPC message, timer tick, IPC
   * message, ...). A stall of D ms delays some tick by at least D − 250, so every stall of
   * 750 ms or more reads above the default 500 ms warning (--warn-event-loop-lag) and 1,250 ms
   * above the SLA check's 1 s; shorter ones are caught when a tick falls inside them.
   */
  resolutionMs?: number;
  /** Default: perf_hooks' monitorEventLoopDelay at `resolutionMs`, enabled by start(). */
  histogram?: DelayHistogram;
}

interface Summary {
  count: number;
  /** The sampler was idle during this interval: no sample reads as no lag. */
  wasIdle: boolean;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  meanNs: number;
}

const defaultResolutionMs = 250;

const emptySummary = (wasIdle = false): Summary => ({
  count: 0,
  wasIdle,
  p50Ns: 0,
  p99Ns: 0,
  maxNs: 0,
  meanNs: 0,
});

export class EventLoopLagSampler {
  readonly #resolutionMs: number;
  readonly #histogram: DelayHistogram;
  readonly #monitor: ReturnType<typeof monitorEventLoopDelay> | undefined;
  readonly #summaries: Summary[] = [];
  #isRunning = false;
  #isIdle = false;

  constructor(options: EventLoopLagSamplerOptions = {}) {
    this.#resolutionMs = options.resolutionMs ?? defaultResolutionMs;
    if (options.histogram === undefined) {
      this.#monitor = monitorEventLoopDelay({ resolution: this.#resolutionMs });
      this.#histogram = this.#monitor;
    } else {
      this.#histogram = options.histogram;
    }
  }

  get isRunning(): boolean {
    return this.#isRunning;
  }

  /** A new reader; it sees the samples from now on. */
  reader(): EventLoopLagReader {
    this.#drain();
    const summary = emptySummary(this.#isIdle);
    this.#summaries.push(summary);
    return { take: () => this.#take(summary) };
  }

  get isIdle(): boolean {
    return this.#isIdle;
  }

  start(): void {
    if (this.#isRunning) return;
    if (!this.#isIdle) this.#monitor?.enable();
    this.#isRunning = true;
  }

  stop(): void {
    if (!this.#isRunning) return;
    if (!this.#isIdle) this.#monitor?.disable();
    this.#isRunning = false;
  }

  /**
   * Idle: nothing is served, so nothing can be delayed; the timer stops until the next
   * `setIdle(false)` (the server's first connection). Samples taken so far stay readable.
   */
  setIdle(isIdle: boolean): void {
    if (isIdle === this.#isIdle) return;
    this.#isIdle = isIdle;
    if (isIdle) {
      this.#drain();
      for (const summary of this.#summaries) summary.wasIdle = true;
    }
    if (!this.#isRunning) return;
    if (isIdle) this.#monitor?.disable();
    else this.#monitor?.enable();
  }

  /** Folds the histogram's samples into every reader's summary and resets it. */
  #drain(): void {
    const histogram = this.#histogram;
    const count = histogram.count;
    if (count === 0) return;
    const p50Ns = histogram.percentile(50);
    const p99Ns = histogram.percentile(99);
    const { max: maxNs, mean: meanNs } = histogram;
    histogram.reset();
    for (const summary of this.#summaries) {
      const total = summary.count + count;
      summary.p50Ns = (summary.p50Ns * summary.count + p50Ns * count) / total;
      summary.meanNs = (summary.meanNs * summary.count + meanNs * count) / total;
      summary.p99Ns = Math.max(summary.p99Ns, p99Ns);
      summary.maxNs = Math.max(summary.maxNs, maxNs);
      summary.count = total;
    }
  }

  #take(summary: Summary): EventLoopLag | undefined {
    this.#drain();
    if (summary.count === 0) {
      if (!summary.wasIdle) return undefined;
      Object.assign(summary, emptySummary(this.#isIdle));
      return { p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
    }
    const excess = (nanoseconds: number): number => Math.max(0, nanoseconds / 1e6 - this.#resolutionMs);
    const lag = {
      p50Ms: excess(summary.p50Ns),
      p99Ms: excess(summary.p99Ns),
      maxMs: excess(summary.maxNs),
      meanMs: excess(summary.meanNs),
    };
    Object.assign(summary, emptySummary(this.#isIdle));
    return lag;
  }
}
