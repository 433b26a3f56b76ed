/**
 * The copying workload of issue #17 item 4 ("a passage repeated verbatim in the prompt, then its
 * start again"), built so that the model really copies (docs/decisions/0045): the passage is the
 * model's own greedy text. With a start S and a separator, the passage P is what the model
 * writes after S + P + separator + S — a fixed point, found by iterating from P0 = the greedy
 * continuation of S. Not every start has one within a few steps (a small model retells instead),
 * so a short fixed list of starts and separators is tried in order and the first fixed point
 * wins; without one, the candidate whose continuation copies the most of its passage. The prompt
 * is S + P + separator + S, so greedy decoding reproduces P and prompt lookup can draft all of it.
 * Deterministic: greedy text only, the candidates in a fixed order. Used by bench:speculative
 * and test/model/speculative-copy.test.ts.
 */

/** Greedy text after `prompt`, at most `maxTokens` tokens, as the caller produces it (server or direct). */
export type GreedyComplete = (prompt: string, maxTokens: number) => Promise<string>;

/**
 * Tried in this order. Through the server, stories260K reaches a fixed point on the first at the
 * third step; the direct engine (no leading space on the first token) on the second at the first.
 */
export const copyCandidates: readonly { start: string; separator: string }[] = [
  { start: "Once upon a time, there was a big dog named Max.", separator: "\n\n" },
  { start: "Once upon a time there was a little girl named Lily.", separator: "\n\n" },
  { start: "Once upon a time, there was a big dog named Max.", separator: "\n" },
  { start: "Tom and Sue went to the park.", separator: "\n\n" },
];
/** Free text: a story start the prompt does not contain the continuation of. */
export const freeTextPrompt = "The dog ran to the park with a big red ball. He was very happy and";
/** A sentence repeated: the model's output loops, drafts come from the prompt and the output. */
export const loopPrompt = "Lily saw a big red ball in the park. ".repeat(6) + "Lily saw";

export interface CopyWorkload {
  start: string;
  separator: string;
  /** The passage: the model's greedy continuation of `prompt` when `isFixedPoint`. */
  passage: string;
  /** start + passage + separator + start. */
  prompt: string;
  /** Iterations made (1 = the first continuation already reproduced itself). */
  iterations: number;
  /** The continuation of `prompt` equals `passage` (else the last iteration's passage is kept). */
  isFixedPoint: boolean;
  /** Characters the continuation of `prompt` shares with `passage` from the start. */
  copiedCharacters: number;
}

export function copyPrompt(start: string, passage: string, separator: string): string {
  return start + passage + separator + start;
}

/** Finds the passage the model copies (see the module comment): `maxIterations` steps per candidate. */
export async function buildCopyWorkload(
  complete: GreedyComplete,
  options: { maxTokens: number; maxIterations?: number; candidates?: number },
): Promise<CopyWorkload> {
  let best: CopyWorkload | undefined;
  for (const { start, separator } of copyCandidates.slice(0, options.candidates ?? copyCandidates.length)) {
    const found = await iterate(complete, { start, separator, ...options });
    if (found.isFixedPoint) return found;
    if (best === undefined || found.copiedCharacters > best.copiedCharacters) best = found;
  }
  return best!;
}

async function iterate(
  complete: GreedyComplete,
  options: { start: string; separator: string; maxTokens: number; maxIterations?: number },
): Promise<CopyWorkload> {
  const { start, separator, maxTokens } = options;
  let passage = await complete(start, maxTokens);
  let best: CopyWorkload | undefined;
  for (let iteration = 1; iteration <= (options.maxIterations ?? 4); iteration++) {
    const prompt = copyPrompt(start, passage, separator);
    const continuation = await complete(prompt, maxTokens);
    const candidate: CopyWorkload = {
      start,
      separator,
      passage,
      prompt,
      iterations: iteration,
      isFixedPoint: continuation === passage,
      copiedCharacters: commonPrefixLength(passage, continuation),
    };
    if (best === undefined || candidate.copiedCharacters > best.copiedCharacters) best = candidate;
    if (candidate.isFixedPoint) return candidate;
    passage = continuation;
  }
  return best!;
}

function commonPrefixLength(a: string, b: string): number {
  let index = 0;
  while (index < a.length && index < b.length && a[index] === b[index]) index++;
  return index;
}
