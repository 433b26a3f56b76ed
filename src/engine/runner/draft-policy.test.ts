import type { LlamaContextSequence, Token } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { DraftPolicy, adaptiveMinMatch, firstStreak, newDraftMemory } from "./draft-policy.js";
import { LookupTokenPredictor, lookupDraft, lookupMatch } from "./lookup-predictor.js";

const t = (values: number[]): Token[] => values as Token[];

describe("lookupDraft", () => {
  it("drafts what followed the earlier occurrence of the context's last tokens", () => {
    expect(lookupDraft(t([1, 2, 3, 4, 5, 9, 1, 2, 3]), 3)).toEqual([4, 5, 9]);
    // The longest match wins; among equally long ones the latest.
    expect(lookupDraft(t([7, 2, 3, 8, 1, 2, 3, 6, 1, 2, 3]), 2)).toEqual([6, 1]);
    expect(lookupDraft(t([5, 1, 2, 3, 8, 4, 2, 3, 9, 5, 1, 2, 3]), 2)).toEqual([8, 4]);
  });

  it("says how many tokens matched, so short recurrences on free text draft nothing under auto", () => {
    expect(lookupMatch(t([1, 2, 3, 9, 1, 2, 3]))).toEqual({ from: 3, matched: 3 });
    expect(lookupMatch(t([1, 2, 3, 4]))).toBeUndefined();
    expect(new DraftPolicy({ maxDraft: 16, adaptive: true, validatedAtStart: 0 }).minMatch).toBe(
      adaptiveMinMatch,
    );
    expect(new DraftPolicy({ maxDraft: 16, adaptive: false, validatedAtStart: 0 }).minMatch).toBe(2);
  });

  it("follows a copied passage where a stray recurrence of its last tokens is later", () => {
    // Passage 10..17 in the prompt, copied from 10 on; "13 14" also occurs in between (… 13 14 99).
    const passage = [10, 11, 12, 13, 14, 15, 16, 17];
    const context = [...passage, 0, 13, 14, 99, 0, 10, 11, 12, 13, 14];
    expect(lookupDraft(t(context), 3)).toEqual([15, 16, 17]);
  });

  it("continues a loop in the output and drafts nothing for a suffix that never recurred", () => {
    // The occurrence two tokens back: the draft repeats the period as far as asked.
    expect(lookupDraft(t([5, 6, 5, 6]), 4)).toEqual([5, 6, 5, 6]);
    expect(lookupDraft(t([7, 7, 7]), 5)).toEqual([7, 7, 7, 7, 7]);
    expect(lookupDraft(t([1, 2, 3, 4]), 4)).toEqual([]);
    // One recurring token is not enough of a pattern.
    expect(lookupDraft(t([1, 9, 2, 9]), 4)).toEqual([]);
  });
});

describe("DraftPolicy", () => {
  /** One step: asks for a length with the counter, drafts `drafted`, the model accepts `accepted`. */
  function step(
    policy: DraftPolicy,
    state: { validated: number },
    [drafted, accepted]: [number, number],
  ): number {
    const length = policy.nextDraftLength(state.validated);
    if (length > 0) policy.drafted(Math.min(drafted, length));
    policy.advance(1 + Math.min(accepted, length));
    state.validated += Math.min(accepted, length, drafted);
    return length;
  }

  it("grows the draft while drafts are accepted whole, up to the maximum, and shrinks on a refusal, never below 4", () => {
    const policy = new DraftPolicy({ maxDraft: 16, adaptive: true, validatedAtStart: 0 });
    const state = { validated: 0 };
    expect([4, 8, 16, 16].map(() => step(policy, state, [99, 99]))).toEqual([4, 8, 16, 16]);
    step(policy, state, [99, 6]);
    expect(policy.nextDraftLength(state.validated)).toBe(7);
    policy.drafted(7);
    policy.advance(2);
    state.validated += 1;
    // Accepted + 1 = 2, but a batch of fewer than 4 tokens only loses on a CPU.
    expect(policy.nextDraftLength(state.validated)).toBe(4);
    expect(policy.counts.accepted).toBe(4 + 8 + 16 + 16 + 6 + 1);
  });

  it("adaptively drafts nothing while other generations decode beside it, and drafts again when alone", () => {
    let isCrowded = false;
    const policy = new DraftPolicy({
      maxDraft: 16,
      adaptive: true,
      validatedAtStart: 0,
      isCrowded: () => isCrowded,
    });
    const state = { validated: 0 };
    expect(step(policy, state, [99, 99])).toBe(4);
    isCrowded = true;
    expect([1, 2, 3].map(() => step(policy, state, [99, 99]))).toEqual([0, 0, 0]);
    isCrowded = false;
    expect(step(policy, state, [99, 99])).toBe(8);
    // input-lookup (not adaptive) always drafts.
    const always = new DraftPolicy({
      maxDraft: 16,
      adaptive: false,
      validatedAtStart: 0,
      isCrowded: () => true,
    });
    expect(always.nextDraftLength(0)).toBe(4);
  });

  it("adaptively pauses while drafts are refuted, longer each time, and drafts again after", () => {
    const policy = new DraftPolicy({ maxDraft: 16, adaptive: true, validatedAtStart: 0 });
    const state = { validated: 0 };
    const lengths: number[] = [];
    for (let index = 0; index < 200; index++) lengths.push(step(policy, state, [99, 0]));
    const drafting = lengths.filter((length) => length > 0).length;
    expect(drafting).toBeGreaterThan(3);
    expect(drafting).toBeLessThan(30);
    expect(lengths.slice(-16)).toContain(0);
  });

  it("adaptively pauses at once when the first draft since (re)starting is refused whole", () => {
    const policy = new DraftPolicy({ maxDraft: 16, adaptive: true, validatedAtStart: 0 });
    const state = { validated: 0 };
    expect(step(policy, state, [99, 0])).toBe(4);
    expect(policy.nextDraftLength(state.validated)).toBe(0);
    // A partly accepted first draft waits for more evidence.
    const other = new DraftPolicy({ maxDraft: 16, adaptive: true, validatedAtStart: 0 });
    const otherState = { validated: 0 };
    step(other, otherState, [99, 1]);
    expect(other.nextDraftLength(otherState.validated)).toBe(4);
  });

  it("without adaptation keeps drafting however many are refuted", () => {
    const policy = new DraftPolicy({ maxDraft: 16, adaptive: false, validatedAtStart: 0 });
    const state = { validated: 0 };
    const lengths = Array.from({ length: 50 }, () => step(policy, state, [99, 0]));
    expect(lengths.every((length) => length === 1 || length === 4)).toBe(true);
  });

  it("adaptively pauses when steps with a draft cost more time per emitted token than steps without", () => {
    /** Plain steps at 10 ms a token, then drafts accepted whole at `draftMsPerToken`; the lengths asked for. */
    function run(draftMsPerToken: number): number[] {
      let clock = 0;
      const policy = new DraftPolicy({ maxDraft: 4, adaptive: true, validatedAtStart: 0, now: () => clock });
      let validated = 0;
      for (let index = 0; index < 6; index++) {
        policy.nextDraftLength(validated);
        policy.drafted(0);
        policy.advance(1);
        clock += 10;
      }
      const lengths: number[] = [];
      for (let index = 0; index < 12; index++) {
        const length = policy.nextDraftLength(validated);
        lengths.push(length);
        if (length > 0) policy.drafted(length);
        policy.advance(1 + length);
        validated += length;
        clock += draftMsPerToken * (1 + length);
      }
      return lengths;
    }
    expect(run(4).every((length) => length === 4)).toBe(true);
    expect(run(11)).toContain(0);
  });

  it("hands a pause to the model's next request, which resumes at once when its prompt gives reason", () => {
    const memory = newDraftMemory();
    const first = new DraftPolicy({ maxDraft: 16, adaptive: true, validatedAtStart: 0, memory });
    const state = { validated: 0 };
    for (let index = 0; index < 3; index++) step(first, state, [99, 0]);
    expect(first.isPaused).toBe(true);
    first.save();
    expect(memory.pausedFor).toBeGreaterThan(0);
    expect(memory.nextPause).toBeGreaterThan(16);
    // The next request starts paused: free text does not pay for the probe again.
    const second = new DraftPolicy({ maxDraft: 16, adaptive: true, validatedAtStart: 0, memory });
    expect(second.nextDraftLength(0)).toBe(0);
    // A copy resumes.
    const third = new DraftPolicy({ maxDraft: 16, adaptive: true, validatedAtStart: 0, memory });
    third.resume();
    expect(third.nextDraftLength(0)).toBe(4);
    // Not adaptive: no memory.
    const always = new DraftPolicy({ maxDraft: 16, adaptive: false, validatedAtStart: 0, memory });
    expect(always.nextDraftLength(0)).toBe(4);
  });
});

describe("DraftPolicy with shadow checks (prompt lookup, ADR 0049)", () => {
  const shadowPolicy = (memory?: ReturnType<typeof newDraftMemory>): DraftPolicy =>
    new DraftPolicy({
      maxDraft: 16,
      adaptive: true,
      validatedAtStart: 0,
      shadow: true,
      ...(memory ? { memory } : {}),
    });

  it("starts paused and drafts once its predictions were right firstStreak times in a row", () => {
    const policy = shadowPolicy();
    expect(policy.isShadowing).toBe(true);
    expect(policy.nextDraftLength(0)).toBe(0);
    policy.shadowChecked(true);
    policy.shadowChecked(false); // a wrong prediction starts the streak again
    for (let index = 0; index < firstStreak - 1; index++) policy.shadowChecked(true);
    expect(policy.nextDraftLength(0)).toBe(0);
    policy.shadowChecked(true);
    expect(policy.isShadowing).toBe(false);
    expect(policy.nextDraftLength(0)).toBe(4);
    // Nothing is drafted while shadowing: free text pays for no refused probe.
    expect(policy.counts.drafted).toBe(0);
  });

  it("goes back to shadowing when a draft is refused, needing twice the streak, and hands it on", () => {
    const memory = newDraftMemory();
    const policy = shadowPolicy(memory);
    for (let index = 0; index < firstStreak; index++) policy.shadowChecked(true);
    expect(policy.nextDraftLength(0)).toBe(4);
    policy.drafted(4);
    policy.advance(1);
    // Refused whole: shadowing again.
    expect(policy.nextDraftLength(0)).toBe(0);
    expect(policy.isShadowing).toBe(true);
    for (let index = 0; index < firstStreak; index++) policy.shadowChecked(true);
    expect(policy.isShadowing).toBe(true);
    for (let index = 0; index < firstStreak; index++) policy.shadowChecked(true);
    expect(policy.isShadowing).toBe(false);
    policy.save();
    expect(memory.requiredStreak).toBe(2 * firstStreak);
    // The next request needs the longer streak, unless its prompt gives reason to expect a copy.
    const next = shadowPolicy(memory);
    for (let index = 0; index < firstStreak; index++) next.shadowChecked(true);
    expect(next.isShadowing).toBe(true);
    const copy = shadowPolicy(memory);
    copy.resume();
    for (let index = 0; index < firstStreak; index++) copy.shadowChecked(true);
    expect(copy.isShadowing).toBe(false);
  });

  it("goes back to shadowing when the first draft after a streak is less than half accepted", () => {
    const policy = shadowPolicy();
    for (let index = 0; index < firstStreak; index++) policy.shadowChecked(true);
    expect(policy.nextDraftLength(0)).toBe(4);
    policy.drafted(4);
    policy.advance(2);
    expect(policy.nextDraftLength(1)).toBe(0);
    expect(policy.isShadowing).toBe(true);
    // Half accepted is evidence enough to go on.
    const other = shadowPolicy();
    for (let index = 0; index < firstStreak; index++) other.shadowChecked(true);
    other.nextDraftLength(0);
    other.drafted(4);
    other.advance(3);
    expect(other.nextDraftLength(2)).toBe(4);
  });

  it("goes back to shadowing on any draft refused whole, however good the rate before", () => {
    const policy = shadowPolicy();
    for (let index = 0; index < firstStreak; index++) policy.shadowChecked(true);
    const state = { validated: 0 };
    for (const length of [4, 8, 16]) {
      expect(policy.nextDraftLength(state.validated)).toBe(length);
      policy.drafted(length);
      policy.advance(1 + length);
      state.validated += length;
    }
    expect(policy.nextDraftLength(state.validated)).toBe(16);
    policy.drafted(16);
    policy.advance(1);
    expect(policy.nextDraftLength(state.validated)).toBe(0);
    expect(policy.isShadowing).toBe(true);
  });

  it("keeps drafting while drafts are accepted and resets the streak it needs", () => {
    const memory = { ...newDraftMemory(), requiredStreak: 4 * firstStreak };
    const policy = shadowPolicy(memory);
    for (let index = 0; index < 4 * firstStreak; index++) policy.shadowChecked(true);
    const state = { validated: 0 };
    const lengths = [0, 1, 2, 3].map(() => {
      const length = policy.nextDraftLength(state.validated);
      policy.drafted(length);
      policy.advance(1 + length);
      state.validated += length;
      return length;
    });
    expect(lengths).toEqual([4, 8, 16, 16]);
    policy.nextDraftLength(state.validated);
    policy.save();
    expect(memory.requiredStreak).toBe(firstStreak);
  });
});

describe("LookupTokenPredictor while its policy shadows", () => {
  it("predicts without drafting, checks each prediction against the emitted token, then drafts", () => {
    const policy = new DraftPolicy({
      maxDraft: 16,
      adaptive: true,
      validatedAtStart: 0,
      shadow: true,
      minMatch: 2,
    });
    const predictor = new LookupTokenPredictor();
    predictor.begin(policy);
    const sequence = { tokenPredictions: { validated: 0 } } as unknown as LlamaContextSequence;
    // A passage 1..19, then its start again: lookup predicts 4, 5, 6 ….
    const passage = Array.from({ length: 19 }, (_, index) => index + 1);
    predictor.reset({ stateTokens: t([...passage, 0, 1, 2, 3]), targetSequence: sequence });
    for (let next = 4; next < 4 + firstStreak; next++) {
      expect(predictor.predictTokens()).toEqual([]);
      predictor.pushTokens(t([next]));
    }
    expect(policy.isShadowing).toBe(false);
    const from = 4 + firstStreak;
    expect(predictor.predictTokens()).toEqual(t([from, from + 1, from + 2, from + 3]));
    expect(predictor.counts.drafted).toBe(4);
  });

  it("counts a step without a prediction, or a wrong one, as a broken streak", () => {
    const policy = new DraftPolicy({
      maxDraft: 16,
      adaptive: true,
      validatedAtStart: 0,
      shadow: true,
      minMatch: 2,
    });
    const predictor = new LookupTokenPredictor();
    predictor.begin(policy);
    const sequence = { tokenPredictions: { validated: 0 } } as unknown as LlamaContextSequence;
    predictor.reset({ stateTokens: t([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3]), targetSequence: sequence });
    // Predicted 4, the model wrote 50; then no recurrence to predict from for a while.
    for (const emitted of [50, 51, 52, 53, 54, 55]) {
      expect(predictor.predictTokens()).toEqual([]);
      predictor.pushTokens(t([emitted]));
    }
    expect(policy.isShadowing).toBe(true);
  });
});
