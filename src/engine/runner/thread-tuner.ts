/**
 * Keeps a runner's thread choice honest while it serves (docs/decisions/0032):
 * - a provisional choice (the rule, because the machine was busy at load) is measured again at
 *   the next quiet, idle moment, checked every `retryMs` through the time port;
 * - the live single-stream decode rate is compared with the rate calibrated for the chosen
 *   count: a window that decodes well below it on a quiet machine drops the cached choice and
 *   measures again at the next quiet, idle moment (at most once per `minRecheckGapMs`);
 * - after a fresh calibration with `trialCounts`, a served trial (served-trial.ts) picks the
 *   decode count by the rates single-stream generations get, and caches that.
 */
import { availableParallelism } from "node:os";
import type { MonotonicMs, TimePort, Timer } from "../../core/index.js";
import type { ThreadChoice } from "../../gpu/index.js";
import { assessLoad, type LoadProbe, type LoadVerdict } from "./load-check.js";
import { ServedTrial } from "./served-trial.js";
import { pickThreads, type ThreadDecision } from "./thread-calibration.js";

/** A live rate below this share of the calibrated one counts as wrong. */
export const slowRateRatio = 0.5;
/** Tokens of single-stream decoding a window needs before it is judged. */
export const windowTokens = 512;
/** A provisional choice is tried again this often (only when idle and quiet over the interval). */
export const defaultRetryMs = 60_000;
export const minRecheckGapMs = 60 * 60_000;

export interface ThreadTunerOptions {
  time: TimePort;
  decision: ThreadDecision;
  /** Applies a new choice to the engine (llama.maxThreads). */
  apply: (choice: ThreadChoice) => void;
  /** No generation in flight: a calibration may take a sequence and the cores. */
  isIdle: () => boolean;
  /** The machine's load now (load-check.ts, against the previous reading), not counting `excluding` of the generations in flight. */
  checkLoad: (excluding: number) => LoadVerdict;
  /** Measures again, ignoring the cache; writes the cache when quiet. */
  recalibrate: () => Promise<ThreadDecision>;
  /** Drops the cached entry of the current choice. */
  forget: (cache: { path: string; key: string }) => Promise<void>;
  retryMs?: number | undefined;
  /** Decode counts to try while serving after a fresh calibration (the served trial); none: no trial. */
  trialCounts?: readonly number[] | undefined;
  /** Switches the decode count (the served trial), leaving a prompt chunk in progress its batch count. */
  setDecodeThreads: (threads: number) => void;
  /** Caches a choice the served trial settled. */
  save: (decision: ThreadDecision) => Promise<void>;
  log: (level: "debug" | "info" | "warn", message: string) => void;
}

export class ThreadTuner {
  #decision: ThreadDecision;
  readonly #options: ThreadTunerOptions;
  #timer: Timer | undefined;
  #isCalibrating = false;
  #windowTokens = 0;
  #windowMs = 0;
  #lastRecheckAt: MonotonicMs | undefined;
  #trial: ServedTrial | undefined;

  constructor(options: ThreadTunerOptions) {
    this.#options = options;
    this.#decision = options.decision;
    if (options.decision.isProvisional) this.#scheduleRetry();
    else this.#startTrial();
  }

  /** The decode count now: the served trial's while one runs, else the choice's. */
  get decodeThreads(): number {
    return this.#trial?.current ?? this.#decision.choice.threads;
  }

  get choice(): ThreadChoice {
    return this.#decision.choice;
  }

  get isCalibrating(): boolean {
    return this.#isCalibrating;
  }

  /** The served trial is measuring decode counts on single-stream generations. */
  get isTrialRunning(): boolean {
    return this.#trial !== undefined;
  }

  /** A calibration is waiting for a quiet, idle moment. */
  get isPending(): boolean {
    return this.#timer !== undefined;
  }

  /** One generation's decode: `tokens` in `decodeMs`, with `concurrent` generations decoding beside it. */
  recordDecode(tokens: number, decodeMs: number, concurrent: number): void {
    if (this.#trial !== undefined) {
      if (concurrent === 0) this.#recordTrial(tokens, decodeMs);
      return;
    }
    const calibrated = this.#calibratedRate();
    if (calibrated === undefined || concurrent > 0 || tokens < 2 || decodeMs <= 0 || this.isPending) return;
    this.#windowTokens += tokens;
    this.#windowMs += decodeMs;
    if (this.#windowTokens < windowTokens) return;
    const rate = (this.#windowTokens * 1000) / this.#windowMs;
    this.#windowTokens = 0;
    this.#windowMs = 0;
    if (rate >= slowRateRatio * calibrated) return;
    const now = this.#options.time.monotonicNow();
    if (this.#lastRecheckAt !== undefined && now - this.#lastRecheckAt < minRecheckGapMs) return;
    // The generation that reports is still in flight.
    const load = this.#options.checkLoad(1);
    if (!load.isQuiet) return;
    this.#lastRecheckAt = now;
    this.#options.log(
      "warn",
      `Decoding served ${Math.round(rate)} tok/s on ${this.choice.threads} thread(s), calibrated ${calibrated}: the thread choice is measured again at the next quiet moment`,
    );
    const cache = this.#decision.cache;
    if (cache !== undefined) void this.#options.forget(cache).catch(() => undefined);
    this.#scheduleRetry();
  }

  /** Tries the pending calibration now; resolves true once a quiet measurement replaced the choice. */
  async tryCalibrate(): Promise<boolean> {
    if (this.#isCalibrating || !this.#options.isIdle() || !this.#options.checkLoad(0).isQuiet) return false;
    this.#isCalibrating = true;
    try {
      const decision = await this.#options.recalibrate();
      if (decision.isProvisional) return false;
      this.#decision = decision;
      this.#options.apply(decision.choice);
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#startTrial();
      return true;
    } catch (error) {
      this.#options.log(
        "warn",
        `The thread re-calibration failed, keeping ${this.choice.threads} thread(s): ${error instanceof Error ? error.message : String(error)}`,
      );
      return false;
    } finally {
      this.#isCalibrating = false;
    }
  }

  dispose(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #startTrial(): void {
    const counts = this.#options.trialCounts;
    if (this.#decision.choice.source !== "calibrated" || counts === undefined || counts.length < 2) return;
    this.#trial = new ServedTrial(counts);
    this.#options.setDecodeThreads(this.#trial.current);
  }

  #recordTrial(tokens: number, decodeMs: number): void {
    const trial = this.#trial!;
    trial.record(tokens, decodeMs);
    if (!trial.isDone) {
      this.#options.setDecodeThreads(trial.current);
      return;
    }
    this.#trial = undefined;
    const samples = trial.samples();
    const threads = pickThreads(samples);
    const served = samples.map((sample) => `${sample.threads}T ${sample.tokensPerSecond} tok/s`).join(", ");
    const choice: ThreadChoice = {
      ...this.#decision.choice,
      threads,
      samples,
      detail: `${this.#decision.choice.detail}; served: ${served} → decode ${threads}`,
    };
    this.#decision = { ...this.#decision, choice };
    this.#options.apply(choice);
    this.#options.log("info", `Threads: served decode ${served}: decoding on ${threads}`);
    void this.#options.save(this.#decision).catch(() => undefined);
  }

  #calibratedRate(): number | undefined {
    const choice = this.#decision.choice;
    if (choice.source !== "calibrated" && choice.source !== "cached") return undefined;
    return choice.samples.find((sample) => sample.threads === choice.threads)?.tokensPerSecond;
  }

  #scheduleRetry(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#options.time
      .setInterval(() => void this.tryCalibrate(), this.#options.retryMs ?? defaultRetryMs)
      .unref();
  }
}

/** A load check against the previous reading (the first one against the load average only). */
export function watchLoad(probe: LoadProbe, inFlight: () => number): (excluding: number) => LoadVerdict {
  let previous = probe();
  return (excluding) => {
    const now = probe();
    const verdict = assessLoad({
      before: previous,
      after: now,
      cores: availableParallelism(),
      inFlight: inFlight() - excluding,
    });
    previous = now;
    return verdict;
  };
}
