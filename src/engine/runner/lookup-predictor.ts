/**
 * Prompt-lookup speculative decoding (issue #17, item 4; docs/decisions/0031, 0045): drafts the
 * tokens that followed the earlier occurrence that matches the context's last tokens longest — in
 * the prompt (edits, rewrites, code, a quoted passage) or in the output so far (a list, a loop).
 * node-llama-cpp's sequence verifies the draft in one batch and keeps the tokens the model
 * would have sampled anyway, so greedy output is unchanged.
 *
 * Why not node-llama-cpp's InputLookupTokenPredictor: it drafts only from tokens handed to
 * `updateInputTokens()` (LlamaChat and LlamaCompletion call it; `sequence.evaluate()` alone
 * never does, hence "zero predictions" in the first try), never from the output, and cannot
 * stop when drafts do not pay. This one sees every token the sequence evaluates (`reset` and
 * `pushTokens`) and follows a per-request DraftPolicy.
 */
import { TokenPredictor, type LlamaContextSequence, type Token } from "node-llama-cpp";
import type { DraftCounts, DraftPolicy } from "./draft-policy.js";

/**
 * Longest context suffix compared and shortest accepted; shorter matches draft too much noise.
 * 32 tells a copy's aligned occurrence from a stray recurrence of the same few tokens.
 */
const maxPatternTokens = 32;
const minPatternTokens = 2;
/** A prompt whose last this many tokens recur earlier resumes drafting paused by earlier requests. */
const resumeMatchTokens = 8;
/** Tokens searched back from the end: bounds the per-step lookup on long contexts. */
const maxLookback = 8192;

export class LookupTokenPredictor extends TokenPredictor {
  #tokens: Token[] = [];
  #sequence: LlamaContextSequence | undefined;
  #policy: DraftPolicy | undefined;
  #isFirstStep = true;
  /** While the policy shadows: this step's prediction (undefined: none), checked at the next pushTokens. */
  #shadowNext: Token | undefined;
  #isShadowPending = false;

  /** Starts a request: `policy` decides when to draft; undefined = never (speculation off for it). */
  begin(policy: DraftPolicy | undefined): void {
    this.#policy = policy;
    this.#isFirstStep = true;
    this.#isShadowPending = false;
  }

  /** Draft counts of the current request. */
  get counts(): DraftCounts {
    return this.#policy?.counts ?? { drafted: 0, accepted: 0 };
  }

  override reset(params: { stateTokens: Token[]; targetSequence: LlamaContextSequence }): void {
    this.#tokens = params.stateTokens.slice();
    this.#sequence = params.targetSequence;
  }

  override pushTokens(tokens: Token[]): void {
    if (this.#isShadowPending) {
      this.#isShadowPending = false;
      this.#policy?.shadowChecked(this.#shadowNext !== undefined && tokens[0] === this.#shadowNext);
    }
    for (const token of tokens) this.#tokens.push(token);
    this.#policy?.advance(tokens.length);
  }

  override predictTokens(): Token[] {
    const policy = this.#policy;
    const sequence = this.#sequence;
    if (policy === undefined || sequence === undefined) return [];
    // A prompt that ends in a long recurrence (a copy, an edit) ends a pause left by free text.
    if (this.#isFirstStep) {
      this.#isFirstStep = false;
      if (policy.isPaused && (lookupMatch(this.#tokens)?.matched ?? 0) >= resumeMatchTokens) policy.resume();
    }
    // Paused: no draft. Shadowing, the lookup still predicts the next token, checked against the
    // one the model emits (no decode), so drafting resumes where predictions hold.
    const length = policy.nextDraftLength(sequence.tokenPredictions.validated);
    if (length === 0) {
      if (policy.isShadowing) {
        this.#shadowNext = lookupDraft(this.#tokens, 1, policy.minMatch)[0];
        this.#isShadowPending = true;
      }
      return [];
    }
    const draft = lookupDraft(this.#tokens, length, policy.minMatch);
    policy.drafted(draft.length);
    return draft;
  }

  override stop(): void {}

  override dispose(): void {
    this.#tokens = [];
    this.#sequence = undefined;
    this.#policy = undefined;
  }
}

/**
 * `length` tokens from `from` on; past the end, the draft repeats what it drafted (the text
 * repeats with period end − from: "a b a b" drafts "a b a b …", not just "a b").
 */
function continueFrom(tokens: readonly Token[], from: number, length: number): Token[] {
  const end = tokens.length;
  const draft: Token[] = [];
  for (let index = from; draft.length < length; index++)
    draft.push(index < end ? tokens[index]! : draft[index - end]!);
  return draft;
}

/**
 * The `length` tokens that followed the earlier occurrence of the context's end that matches it
 * longest (at least `minMatch` tokens, never fewer than minPatternTokens; compared up to
 * maxPatternTokens; the latest among equals),
 * continued periodically when that occurrence is close to the end; empty when none recurs.
 * Longest, not latest: a copied passage's n-grams recur elsewhere (in the passage itself, in the
 * output so far), and only the occurrence aligned with the copy matches back to where the copy
 * began — the latest 4-gram match drafted from the wrong place about a third of the time
 * (bench:speculative copy workload: 0.55–0.74 acceptance on text the model reproduced exactly).
 */
export function lookupDraft(tokens: readonly Token[], length: number, minMatch = minPatternTokens): Token[] {
  const match = lookupMatch(tokens);
  return match === undefined || match.matched < minMatch ? [] : continueFrom(tokens, match.from, length);
}

/** Where the draft would start and how many tokens of the context's end matched there. */
export function lookupMatch(tokens: readonly Token[]): { from: number; matched: number } | undefined {
  const end = tokens.length;
  if (end <= minPatternTokens) return undefined;
  const floor = Math.max(0, end - maxLookback);
  const last = tokens[end - 1];
  let best: { from: number; matched: number } | undefined;
  // `at` is an earlier occurrence of the last token; the match extends backwards from it.
  for (let at = end - 2; at >= floor; at--) {
    if (tokens[at] !== last) continue;
    let matched = 1;
    while (matched < maxPatternTokens && matched <= at && tokens[at - matched] === tokens[end - 1 - matched])
      matched++;
    if (matched >= minPatternTokens && matched > (best?.matched ?? 0)) {
      best = { from: at + 1, matched };
      if (matched === maxPatternTokens) break;
    }
  }
  return best;
}
