/**
 * Makes the sequences of one context decode as one batch per step (issue #17, item 3;
 * docs/decisions/0030-one-batch-per-step.md).
 *
 * node-llama-cpp's dispatcher loops while decodes are queued: once a batch's tokens are sampled
 * it decodes at once whatever is queued by then. The sequence whose sample resolved last is
 * still in its JavaScript (generator, runner loop) and misses the batch, so four streams
 * decode in batches of 3 then 1 — twice the llama_decode calls of one batch of 4.
 *
 * The gatherer holds each sequence's decode request until every active sequence has asked
 * (then hands them over together and dispatches at once, skipping node-llama-cpp's wait for
 * the next event-loop turn), or, once nothing handed over is still being decoded or sampled,
 * until the next timer turn when one is late (a sequence between prompt chunks, or not counted
 * as active). One active sequence never waits. It relies on `LlamaContext._decodeTokens` (internal, node-llama-cpp 3.21.1, pinned;
 * test/model/decode-gather.test.ts checks the hook still sees every decode).
 */
import type { LlamaContext } from "node-llama-cpp";
import { systemTime, type TimePort, type Timer } from "../../core/index.js";

type DecodeTokens = (item: unknown, logitDataMapper: unknown) => Promise<unknown>;

interface Staged {
  item: unknown;
  logitDataMapper: unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export interface DecodeGatherStats {
  /** Batches handed to node-llama-cpp by the gatherer. */
  batches: number;
  /** Decode requests (one per sequence per step) in those batches. */
  requests: number;
  /** Batches handed over by the fallback timer because a sequence was late. */
  lateBatches: number;
}

/**
 * The order in which a batch's requests are queued. llama.cpp without a unified KV cache (which
 * node-llama-cpp never asks for) cuts a batch into ubatches of consecutive, increasing sequence
 * ids (`llama_batch_allocr::split_equal`, sequential): in arrival order (the order in which
 * the samples settled) a step of 4 became 2–4 graph computes; in sequence-id order it is one
 * (ADR 0044). "arrival" is node-llama-cpp's order, kept for the benchmarks.
 */
export type GatherOrder = "sequence" | "arrival";

export interface DecodeGatherOptions {
  time?: TimePort;
  order?: GatherOrder;
  /** Called after `active` changed (the host picks the thread count by it). */
  onActiveChange?: (active: number) => void;
}

const sequenceIdOf = (staged: Staged): number =>
  (staged.item as { sequenceId?: number } | null)?.sequenceId ?? Number.MAX_SAFE_INTEGER;

export class DecodeGather {
  readonly #context: LlamaContext;
  readonly #original: DecodeTokens;
  /** What `_decodeTokens` was before, when another wrapper (the sample gate) had set it. */
  readonly #previous: PropertyDescriptor | undefined;
  readonly #time: TimePort;
  readonly #order: GatherOrder;
  readonly #onActiveChange: ((active: number) => void) | undefined;
  readonly #staged: Staged[] = [];
  #active = 0;
  /** Requests handed to node-llama-cpp and not settled yet: their sequences will surely ask again. */
  #inFlight = 0;
  #timer: Timer | undefined;
  readonly stats: DecodeGatherStats = { batches: 0, requests: 0, lateBatches: 0 };

  constructor(context: LlamaContext, options: DecodeGatherOptions = {}) {
    this.#context = context;
    this.#time = options.time ?? systemTime;
    this.#order = options.order ?? "sequence";
    this.#onActiveChange = options.onActiveChange;
    const internal = context as unknown as { _decodeTokens: DecodeTokens };
    if (typeof internal._decodeTokens !== "function")
      throw new Error(
        "node-llama-cpp's LlamaContext has no _decodeTokens: the pinned version changed; update src/engine/runner/decode-gather.ts.",
      );
    this.#previous = Object.getOwnPropertyDescriptor(context, "_decodeTokens");
    this.#original = internal._decodeTokens.bind(context);
    internal._decodeTokens = (item, logitDataMapper) =>
      new Promise((resolve, reject) => {
        this.#staged.push({ item, logitDataMapper, resolve, reject });
        this.#check();
      });
  }

  /** Hands what waits over and gives node-llama-cpp its own dispatch back (benchmarks compare both). */
  uninstall(): void {
    this.#flush(false);
    if (this.#previous === undefined)
      delete (this.#context as unknown as { _decodeTokens?: DecodeTokens })._decodeTokens;
    else Object.defineProperty(this.#context, "_decodeTokens", this.#previous);
  }

  /** Sequences that decode now and whose next decode request a batch should wait for. */
  get active(): number {
    return this.#active;
  }

  /** A sequence starts (or resumes) decoding: batches wait for its requests. */
  join(): void {
    this.#active += 1;
    this.#onActiveChange?.(this.#active);
  }

  /** A sequence stops decoding for a while (done, or waiting for credit): batches stop waiting for it. */
  leave(): void {
    this.#active = Math.max(0, this.#active - 1);
    this.#onActiveChange?.(this.#active);
    this.#check();
  }

  #check(): void {
    if (this.#staged.length === 0) return;
    if (this.#staged.length >= this.#active) {
      this.#flush(false);
      return;
    }
    // While a batch is being decoded or sampled, its sequences come back when it settles (their
    // samples can complete in different event-loop turns); only then may a late one be left out.
    if (this.#inFlight > 0) return;
    this.#timer ??= this.#time.setTimeout(() => {
      this.#timer = undefined;
      if (this.#inFlight === 0) this.#flush(true);
    }, 0);
  }

  #settled(settle: () => void): void {
    this.#inFlight -= 1;
    settle();
    this.#check();
  }

  #flush(isLate: boolean): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#staged.length === 0) return;
    this.stats.batches += 1;
    this.stats.requests += this.#staged.length;
    if (isLate) this.stats.lateBatches += 1;
    const staged = this.#staged.splice(0);
    if (this.#order === "sequence" && staged.length > 1)
      staged.sort((left, right) => sequenceIdOf(left) - sequenceIdOf(right));
    // All requests are queued synchronously, then dispatched together now.
    this.#inFlight += staged.length;
    for (const { item, logitDataMapper, resolve, reject } of staged) {
      this.#original(item, logitDataMapper).then(
        (value) => this.#settled(() => resolve(value)),
        (error: unknown) => this.#settled(() => reject(error)),
      );
    }
    this.#context.dispatchPendingBatch();
  }
}
