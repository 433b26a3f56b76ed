/**
 * Prompt-lookup speculative decoding (issue #17, item 4; docs/decisions/0031): drafts the tokens
 * that followed the latest earlier occurrence of the context's last few tokens — in the prompt
 * (edits, rewrites, code, a quoted passage) or in the output so far (a list, a repeated line).
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

/** Longest and shortest context suffix looked up; shorter matches draft too much noise. */
const maxPatternTokens = 4;
const minPatternTokens = 2;
/** Tokens searched back from the end: bounds the per-step lookup on long contexts. */
const maxLookback = 8192;

export class LookupTokenPredictor extends TokenPredictor {
  #tokens: Token[] = [];
  #sequence: LlamaContextSequence | undefined;
  #policy: DraftPolicy | undefined;

  /** Starts a request: `policy` decides when to draft; undefined = never (speculation off for it). */
  begin(policy: DraftPolicy | undefined): void {
    this.#policy = policy;
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
    for (const token of tokens) this.#tokens.push(token);
    this.#policy?.advance(tokens.length);
  }

  override predictTokens(): Token[] {
    const policy = this.#policy;
    const sequence = this.#sequence;
    if (policy === undefined || sequence === undefined) return [];
    const length = policy.nextDraftLength(sequence.tokenPredictions.validated);
    if (length === 0) return [];
    const draft = lookupDraft(this.#tokens, length);
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
 * The `length` tokens that followed the latest earlier occurrence of the longest suffix
 * (maxPatternTokens down to minPatternTokens) of `tokens`, continued periodically when that
 * occurrence is close to the end; empty when none recurs.
 */
export function lookupDraft(tokens: readonly Token[], length: number): Token[] {
  const end = tokens.length;
  const floor = Math.max(0, end - maxLookback);
  for (let pattern = Math.min(maxPatternTokens, end - 1); pattern >= minPatternTokens; pattern--) {
    // Candidate occurrences end before the suffix itself: start + pattern <= end - 1.
    for (let start = end - pattern - 1; start >= floor; start--) {
      let matched = 0;
      while (matched < pattern && tokens[start + matched] === tokens[end - pattern + matched]) matched++;
      if (matched === pattern) return continueFrom(tokens, start + pattern, length);
    }
  }
  return [];
}
