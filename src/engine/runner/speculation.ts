/**
 * Speculative decoding for one generation (docs/decisions/0031): whether it drafts, under which
 * policy, and what it drafted and got accepted, for `usage` and the metrics.
 */
import type { LlamaContextSequence, LlamaGrammar, TokenPredictor } from "node-llama-cpp";
import { systemTime, type GenerateRequest } from "../../core/index.js";
import type { SpeculativeMode } from "../contract.js";
import type { DraftModel } from "./draft-model.js";
import { DraftPolicy, newDraftMemory, type DraftMemory } from "./draft-policy.js";
import { LookupTokenPredictor } from "./lookup-predictor.js";
import { isPenaltyActive } from "./sampling-options.js";

/** Longest draft per step: a copied passage grows the draft up to this (4, 8, 16). */
export const maxDraftTokens = 16;

/**
 * Models lighter than this decode a token in about a millisecond here, where a step's fixed cost
 * (thread wake-ups) weighs as much as the decode: on the local build run-ahead decoding (ADR
 * 0055), which removes that cost, paid 2× more than prompt lookup on stories260K (1 MB), while
 * prompt lookup paid 1.4–1.7× over run-ahead on the 134M model (143 MB). ADR 0058.
 */
export const runAheadOverLookupBelowBytes = 16 * 1024 * 1024;

/**
 * The mode a model's generations use: `auto` with prompt lookup leaves a small model to run-ahead
 * decoding where the engine has it (a request that speculates does not run ahead).
 */
export function speculativeModeFor(
  mode: SpeculativeMode,
  model: { hasDraftModel: boolean; hasRunAhead: boolean; weightBytes: number },
): { mode: SpeculativeMode; reason?: string } {
  if (mode !== "auto" || model.hasDraftModel || !model.hasRunAhead) return { mode };
  if (model.weightBytes >= runAheadOverLookupBelowBytes) return { mode };
  return {
    mode: "off",
    reason: `--speculative auto: prompt lookup off for this model (${Math.round(model.weightBytes / 1024)} KiB): run-ahead decoding pays more on a model under ${runAheadOverLookupBelowBytes / 1024 / 1024} MiB`,
  };
}

export interface SpeculationCounts {
  draftedTokens: number;
  acceptedTokens: number;
}

export interface Speculation {
  /** Stops drafting, drops verified drafts not consumed; undefined when the request did not speculate. */
  finish(): Promise<SpeculationCounts | undefined>;
}

/**
 * "auto" speculates on greedy requests without a grammar (a seeded sampler would draw its
 * random numbers differently with drafts, so sampled output would no longer repeat by seed)
 * and adaptively; "input-lookup" on every request, always drafting. Never with a repeat
 * penalty: node-llama-cpp would judge a drafted position by the penalty window of the step
 * before it, which would change the text. With a draft model (--draft-model, ADR 0041) it
 * drafts instead of prompt lookup, under "auto" rules unless the mode is "input-lookup".
 */
export function startSpeculation(options: {
  mode: SpeculativeMode;
  sequence: LlamaContextSequence;
  request: GenerateRequest;
  grammar: LlamaGrammar | undefined;
  draft?: DraftModel | undefined;
  /** Under auto: other generations decode beside this one, so drafting waits (DraftPolicy). */
  isCrowded?: (() => boolean) | undefined;
  /**
   * Under auto: no speculation for this generation. The runner sets it when others decode as it
   * starts, and while the served thread trial measures decode rates (drafted tokens would count
   * as decode speed, by how well each trial's text copies its prompt).
   */
  startsPlain?: boolean | undefined;
}): Speculation {
  const { sequence, request, grammar, draft } = options;
  const mode = draft === undefined || options.mode === "input-lookup" ? options.mode : "auto";
  const isOn =
    !isPenaltyActive(request.sampling) &&
    (mode === "input-lookup" ||
      (mode === "auto" && request.sampling.temperature === 0 && grammar === undefined));
  if (!isOn) return { finish: () => Promise.resolve(undefined) };
  // Under auto a generation told to start plain keeps the plain path for its life: a predictor,
  // even one that does not draft, puts every step on node-llama-cpp's speculative path (no fused
  // decode-and-sample, no run-ahead), which cost four streams on 134M ~20 %.
  if (mode === "auto" && options.startsPlain === true) return { finish: () => Promise.resolve(undefined) };
  const internal = sequence as unknown as SequenceInternals;
  const before = sequence.tokenPredictions;
  const policy = new DraftPolicy({
    maxDraft: maxDraftTokens,
    adaptive: mode === "auto",
    validatedAtStart: before.validated,
    now: () => systemTime.monotonicNow(),
    memory: memoryOf(sequence),
    // Prompt lookup checks its predictions for free while paused; a draft model would have to decode.
    shadow: draft === undefined,
    isCrowded: options.isCrowded,
  });
  const predictor = draft === undefined ? lookupPredictor(policy) : draft.predictorFor(sequence, policy);
  if (predictor === undefined) return { finish: () => Promise.resolve(undefined) };
  internal._tokenPredictor = predictor;
  return {
    async finish() {
      try {
        // Drafts verified but not consumed stay in the KV cache until the next evaluation:
        // drop them now, before the sequence's state is saved or reused.
        await internal._abortTokenPredictor?.();
      } finally {
        internal._tokenPredictor = undefined;
        predictor.dispose();
        policy.save();
      }
      return {
        draftedTokens: policy.counts.drafted,
        acceptedTokens: sequence.tokenPredictions.used - before.used,
      };
    },
  };
}

/** Per model: whether drafting paid in its last requests (DraftMemory), for as long as the model lives. */
const memories = new WeakMap<object, DraftMemory>();

function memoryOf(sequence: LlamaContextSequence): DraftMemory {
  const key = sequence.model;
  let memory = memories.get(key);
  if (memory === undefined) {
    memory = newDraftMemory();
    memories.set(key, memory);
  }
  return memory;
}

function lookupPredictor(policy: DraftPolicy): LookupTokenPredictor {
  const predictor = new LookupTokenPredictor();
  predictor.begin(policy);
  return predictor;
}

/**
 * node-llama-cpp 3.21.1 internals: `evaluate()` drafts through `_speculativeEvaluate` while the
 * sequence has a `_tokenPredictor` (read at each call); attaching it only to the generations
 * that speculate leaves every other one (sampled, penalised, tool calls through LlamaChat) on
 * the plain path, exactly as without speculation.
 */
interface SequenceInternals {
  _tokenPredictor: TokenPredictor | undefined;
  _abortTokenPredictor?: () => Promise<void>;
}
