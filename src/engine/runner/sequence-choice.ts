/**
 * Which free sequence a request takes (ADR 0044): the one whose cached tokens share the longest
 * prefix with its prompt, and on a tie the lowest sequence id. llama.cpp decodes the busy
 * sequences' tokens of a step in one ubatch only while their ids are consecutive, so low ids
 * keep the busy set dense (0,1,2 rather than 0,1,3) without giving up prefix reuse.
 */
export interface SequenceCandidate {
  /** Tokens of the prompt already in the sequence's cache, from the start. */
  sharedTokens: number;
  sequenceId: number;
}

/** The index of the candidate to take; 0 when there is none. */
export function chooseSequence(candidates: readonly SequenceCandidate[]): number {
  let best = 0;
  candidates.forEach((candidate, index) => {
    const current = candidates[best]!;
    if (
      candidate.sharedTokens > current.sharedTokens ||
      (candidate.sharedTokens === current.sharedTokens && candidate.sequenceId < current.sequenceId)
    )
      best = index;
  });
  return best;
}
