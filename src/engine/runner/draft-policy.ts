/**
 * When and how much one request drafts (docs/decisions/0031): the draft grows while drafts are
 * accepted whole and shrinks to what was accepted when one is refuted; adaptively, drafting
 * pauses when the recent acceptance rate is too low to pay for the wider batches (free text),
 * or when steps with a draft take longer per emitted token than steps without (a CPU where a
 * batch of k tokens costs nearly k decodes), for a number of tokens that doubles each time it
 * still does not pay on the next try — or, where the predictor can check its predictions for
 * free (prompt lookup: `shadow`), until its predictions were right several times in a row
 * (docs/decisions/0049).
 */
export interface DraftCounts {
  /** Tokens proposed by the predictor. */
  drafted: number;
  /** Drafted tokens the model confirmed (validated by node-llama-cpp). */
  accepted: number;
}

export interface DraftPolicyOptions {
  /** Longest draft per step. */
  maxDraft: number;
  /**
   * Fewest context tokens a lookup must match before it drafts; default: 2 when not adaptive,
   * adaptiveMinMatch when adaptive.
   */
  minMatch?: number;
  /** Pause drafting when the recent acceptance rate falls below `minAcceptance`. */
  adaptive: boolean;
  /** The sequence's validated-prediction counter when the request starts. */
  validatedAtStart: number;
  /**
   * Adaptively: the model's pause left over from its previous requests (see DraftMemory);
   * absent = every request starts drafting.
   */
  memory?: DraftMemory;
  /**
   * Monotonic milliseconds: adaptively, drafting also pauses when steps with a draft cost more
   * time per emitted token than steps without (÷ 0.97). Absent = acceptance alone decides.
   */
  now?: () => number;
  /**
   * Adaptively: the predictor keeps predicting while paused and reports whether each prediction
   * was the token the model emitted (shadowChecked); a pause then ends when `requiredStreak`
   * predictions in a row were right, instead of after a number of tokens, and every request
   * starts paused that way. Checking costs no decode, so free text never pays for a refused
   * probe, and a copy starts drafting as soon as its predictions hold (docs/decisions/0049).
   */
  shadow?: boolean;
  /**
   * Adaptively: other generations decode in the same steps. Drafting then waits: a batch that
   * already carries other sequences' tokens gains less from verified drafts, and a refused
   * draft takes compute from them (vLLM's `speculative_disable_by_batch_size`; ADR 0058).
   * Those steps are not timed.
   */
  isCrowded?: () => boolean;
}

const firstDraft = 4;
/**
 * Shortest draft: on a CPU a batch of 2 tokens costs more than two single decodes and one of 4
 * about 2.7 (llama-bench pp1/pp2/pp4 on the 134M model: 143, 122, 211 tok/s), so a draft of
 * fewer than 4 tokens can only lose (ADR 0042 addendum).
 */
export const minDraft = 4;
/** Recent-rate memory: each step's counts weigh this much less one step later. */
const decay = 0.8;
/** Acceptance below which drafting does not pay on a CPU (measured: ADR 0031). */
export const minAcceptance = 0.5;
/** Drafted tokens since drafting (re)started before the rate is trusted. */
const minSample = 8;
/** Drafting may be this much slower per token than not drafting before it pauses (free text ≥ 0.97×). */
const minSpeedup = 0.97;
/** Timed steps of each kind before their costs are compared. */
const minTimedSteps = 4;
/**
 * Adaptively, a prompt-lookup draft needs the context's last 4 tokens to recur: on free text a
 * recurring 2- or 3-token phrase ("he was", ", and") is mostly followed by something else
 * (stories260K, bench:speculative: 0.39–0.41 of such drafts accepted), while a copy or a loop
 * matches far longer.
 */
export const adaptiveMinMatch = 8;
const firstPauseTokens = 16;
const maxPauseTokens = 1024;
/**
 * Shadow pauses: right predictions in a row before drafting (again); doubles each time drafting
 * did not pay, back to the first when it did.
 */
export const firstStreak = 4;
const maxStreak = 48;

/**
 * What one request's verdict leaves the model's next one: the pause still to run and the next
 * pause length. Free text then does not pay again for the probes that found drafting does not
 * pay (each request started afresh: 16, 32, 64 … drafted tokens refused per 128-token request);
 * a request whose prompt ends in a long recurrence (a copy, an edit) resumes at once (resume()).
 */
export interface DraftMemory {
  pausedFor: number;
  nextPause: number;
  /** Shadow pauses: the streak the next request needs. */
  requiredStreak: number;
}

export function newDraftMemory(): DraftMemory {
  return { pausedFor: 0, nextPause: firstPauseTokens, requiredStreak: firstStreak };
}

export class DraftPolicy {
  readonly counts: DraftCounts = { drafted: 0, accepted: 0 };
  readonly #options: DraftPolicyOptions;
  #validated: number;
  #length = firstDraft;
  #lastDraft = 0;
  #recentDrafted = 0;
  #recentAccepted = 0;
  #sampled = 0;
  #pausedFor = 0;
  #nextPause = firstPauseTokens;
  /** Shadow pauses (options.shadow): paused until `#requiredStreak` right predictions in a row. */
  #isShadowing = false;
  #streak = 0;
  #requiredStreak = firstStreak;
  /** The current step: when it started, tokens emitted since, whether it carried a draft. */
  #stepStart: number | undefined;
  #stepTokens = 0;
  #stepDrafted = false;
  /** Decayed milliseconds per emitted token, for steps with and without a draft. */
  readonly #cost = { drafting: new DecayedMean(), plain: new DecayedMean() };

  /** Fewest matched context tokens for a lookup draft. */
  readonly minMatch: number;

  constructor(options: DraftPolicyOptions) {
    this.#options = options;
    this.minMatch = options.minMatch ?? (options.adaptive ? adaptiveMinMatch : 2);
    if (options.adaptive && options.memory !== undefined) {
      this.#pausedFor = options.memory.pausedFor;
      this.#nextPause = options.memory.nextPause;
      this.#requiredStreak = options.memory.requiredStreak;
    }
    // Shadow: every request starts paused, drafting once its predictions hold.
    this.#isShadowing = options.adaptive && options.shadow === true;
    this.#validated = options.validatedAtStart;
    this.#length = Math.min(firstDraft, options.maxDraft);
  }

  /** Whether drafting is paused now. */
  get isPaused(): boolean {
    return this.#pausedFor > 0 || this.#isShadowing;
  }

  /** Paused, and the predictor should keep predicting and report each check (shadowChecked). */
  get isShadowing(): boolean {
    return this.#isShadowing;
  }

  /**
   * Ends a pause carried over from earlier requests (the prompt gives reason to expect a copy);
   * a shadow pause needs only the first streak.
   */
  resume(): void {
    this.#pausedFor = 0;
    this.#requiredStreak = firstStreak;
  }

  /** While shadowing: whether the predictor's prediction for this step was the token the model emitted. */
  shadowChecked(isRight: boolean): void {
    if (!this.#isShadowing) return;
    this.#streak = isRight ? this.#streak + 1 : 0;
    if (this.#streak < this.#requiredStreak) return;
    this.#isShadowing = false;
    this.#streak = 0;
  }

  /** Hands this request's verdict to the model's next request (adaptive only). */
  save(): void {
    const memory = this.#options.memory;
    if (memory === undefined || !this.#options.adaptive) return;
    memory.pausedFor = this.#pausedFor;
    memory.nextPause = this.#nextPause;
    memory.requiredStreak = this.#requiredStreak;
  }

  /** The draft length for the next step (0 = do not draft), given the sequence's validated counter. */
  nextDraftLength(validated: number): number {
    const accepted = Math.max(0, validated - this.#validated);
    this.#validated = validated;
    const isCrowded = this.#options.adaptive && this.#options.isCrowded?.() === true;
    if (isCrowded) this.#stepStart = undefined;
    else this.#timeStep();
    if (this.#lastDraft > 0) this.#settle(accepted);
    if (this.isPaused || isCrowded) return 0;
    return this.#length;
  }

  #timeStep(): void {
    const now = this.#options.now?.();
    if (now === undefined) return;
    if (this.#stepStart !== undefined && this.#stepTokens > 0) {
      const msPerToken = (now - this.#stepStart) / this.#stepTokens;
      (this.#stepDrafted ? this.#cost.drafting : this.#cost.plain).add(msPerToken);
    }
    this.#stepStart = now;
    this.#stepTokens = 0;
    this.#stepDrafted = false;
  }

  /** Drafting costs more per emitted token than not drafting, by the recent timed steps. */
  #isSlower(): boolean {
    const { drafting, plain } = this.#cost;
    if (drafting.count < minTimedSteps || plain.count < minTimedSteps) return false;
    return drafting.value > plain.value / minSpeedup;
  }

  /** The predictor proposed `count` tokens. */
  drafted(count: number): void {
    this.#lastDraft = count;
    this.#stepDrafted = count > 0;
    this.counts.drafted += count;
  }

  /** `count` tokens entered the sequence. */
  advance(count: number): void {
    this.#pausedFor = Math.max(0, this.#pausedFor - count);
    this.#stepTokens += count;
  }

  #settle(accepted: number): void {
    const draft = this.#lastDraft;
    this.#lastDraft = 0;
    this.counts.accepted += Math.min(accepted, draft);
    this.#length =
      accepted >= draft
        ? Math.min(this.#options.maxDraft, this.#length * 2)
        : Math.max(Math.min(minDraft, this.#options.maxDraft), Math.min(this.#length, accepted + 1));
    this.#recentDrafted = this.#recentDrafted * decay + draft;
    this.#recentAccepted = this.#recentAccepted * decay + Math.min(accepted, draft);
    this.#sampled += draft;
    // The first draft since drafting (re)started refused whole: pause at once rather than pay
    // for a second one (on stories260K a refused draft step costs several plain steps). With
    // shadow checks (pausing costs only a streak to resume), any draft refused whole pauses, and
    // the first draft after a streak, which tests it, fails with less than half accepted.
    const isFirstDraft = this.#sampled === draft;
    const isRefusedProbe =
      this.#options.shadow === true
        ? accepted === 0 || (isFirstDraft && accepted * 2 < draft)
        : accepted === 0 && isFirstDraft;
    if (!this.#options.adaptive || (this.#sampled < minSample && !isRefusedProbe)) return;
    if (!isRefusedProbe && this.#recentAccepted / this.#recentDrafted >= minAcceptance && !this.#isSlower()) {
      this.#nextPause = firstPauseTokens;
      this.#requiredStreak = firstStreak;
      return;
    }
    // Timed again from scratch when drafting resumes.
    this.#cost.drafting.reset();
    if (this.#options.shadow === true) {
      this.#isShadowing = true;
      this.#streak = 0;
      this.#requiredStreak = Math.min(maxStreak, this.#requiredStreak * 2);
    } else {
      this.#pausedFor = this.#nextPause;
      this.#nextPause = Math.min(maxPauseTokens, this.#nextPause * 2);
    }
    this.#recentDrafted = 0;
    this.#recentAccepted = 0;
    this.#sampled = 0;
    this.#length = Math.min(firstDraft, this.#options.maxDraft);
  }
}

class DecayedMean {
  value = 0;
  count = 0;
  #weight = 0;

  add(sample: number): void {
    this.#weight = this.#weight * decay + 1;
    this.value += (sample - this.value) / this.#weight;
    this.count += 1;
  }

  reset(): void {
    this.value = 0;
    this.count = 0;
    this.#weight = 0;
  }
}
