/**
 * Run-ahead decoding (docs/decisions/0055-run-ahead-decoding.md): on a build whose addon has it
 * (`npm run engine:build`), the sequences decoding one token each let the native worker decode
 * the tokens it sampled, as one batch, and sample the next, on and on, for up to half the
 * stream's coalescing window. The tokens reach the client no later than the coalescer would
 * have sent them, and the two thread wake-ups a step (worker → main thread → worker) are gone
 * from the decode's critical path.
 *
 * A new epoch stops the worker between two steps: set when another generation takes a sequence
 * (so its prompt does not wait for a burst to end) and when a generation is cancelled or
 * preempted. The epoch is read by the request before each decode, so a stop is never lost.
 */
import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";

/** What `_evaluate`'s fused call is asked for before one decode (run-ahead-patches.ts). */
export interface RunAheadRequest {
  maxSteps: number;
  budgetUs: number;
  epoch: number;
  /** Filled in by the patched context: what the worker decoded and sampled ahead. */
  result?: { decoded: number; sampled: number[] };
}

interface NativeContext {
  rawrxdSetRunAheadEpoch?: (epoch: number) => void;
  decodeBatchAndSample?: unknown;
}

export class RunAhead {
  readonly #native: NativeContext | undefined;
  readonly #budgetUs: number;
  #epoch = 0;

  /**
   * `coalesceMs`: the stream's --stream-coalesce-ms; a burst lasts at most half of it, so 0
   * (one message per token, as soon as it is sampled) turns run-ahead off.
   */
  constructor(context: LlamaContext, options: { coalesceMs: number }) {
    const native = (context as unknown as { _ctx?: NativeContext })._ctx;
    const isSupported =
      typeof native?.rawrxdSetRunAheadEpoch === "function" &&
      typeof native.decodeBatchAndSample === "function" &&
      (context as unknown as { rawrxdFusedSample?: boolean }).rawrxdFusedSample !== false;
    this.#native = isSupported && !benchRunAheadOff() ? native : undefined;
    this.#budgetUs = Math.floor((options.coalesceMs * 1000) / 2);
  }

  /** Whether this runner's addon decodes ahead at all (the local build, window above 0). */
  get isOn(): boolean {
    return this.#native !== undefined && this.#budgetUs > 0;
  }

  /** Ends any burst now, between two of its steps. */
  stop(): void {
    if (this.#native === undefined) return;
    this.#epoch = (this.#epoch + 1) >>> 0;
    this.#native.rawrxdSetRunAheadEpoch!(this.#epoch);
  }

  /** The request for one decode, or null: off, or nothing worth running ahead for. */
  requestFor(maxSteps: number): RunAheadRequest | null {
    if (!this.isOn || maxSteps <= 0) return null;
    return { maxSteps, budgetUs: this.#budgetUs, epoch: this.#epoch };
  }
}

/**
 * RAWRXD_BENCH_RUN_AHEAD=off keeps one decode per call on a build whose addon can run ahead, so
 * a benchmark can run both side by side. A benchmark hook, not a setting.
 */
function benchRunAheadOff(): boolean {
  return process.env["RAWRXD_BENCH_RUN_AHEAD"] === "off";
}

/**
 * The `rawrxdRunAhead` evaluate option of one generation: nothing unless it samples plainly (no
 * logprobs, grammar or penalty window, which change between tokens in JavaScript) on a sequence
 * that takes no interval checkpoints (SWA and recurrent models: see needsCheckpoints). Before each
 * decode it asks for a burst only once the first token is out (time to first token stays one
 * decode), while every generation holding a sequence is decoding (none is between taking its
 * sequence and its prompt, or waiting for its reader), and for no more steps than it may still
 * take. The context runs ahead only when every sequence of the batch asked.
 */
export function runAheadOption(parts: {
  runAhead: RunAhead;
  isPlainSampling: boolean;
  sequence: LlamaContextSequence;
  signal: AbortSignal;
  /** Whether every generation holding a sequence is in the decode gatherer. */
  isEveryoneDecoding: () => boolean;
  hasFirstResult: () => boolean;
  /** Tokens it may still sample after the one the next decode samples. */
  stepsLeft: () => number;
}): { rawrxdRunAhead?: () => RunAheadRequest | null } {
  if (!parts.runAhead.isOn || !parts.isPlainSampling || parts.sequence.needsCheckpoints) return {};
  return {
    rawrxdRunAhead: () =>
      !parts.hasFirstResult() || parts.signal.aborted || !parts.isEveryoneDecoding()
        ? null
        : parts.runAhead.requestFor(parts.stepsLeft()),
  };
}
