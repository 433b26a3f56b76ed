/**
 * A SentencePiece-style ("llama") vocabulary for synthetic models: `<unk>`, `<s>`, `</s>`, the
 * 256 byte tokens, then unique letter pieces ("▁a", "a", "▁b", …, "▁aa", …) until it is full.
 */
export interface SyntheticVocabulary {
  tokens: string[];
  scores: Float32Array;
  /** llama.cpp token types: 1 normal, 2 unknown, 3 control, 6 byte. */
  tokenTypes: Int32Array;
}

const letters = "abcdefghijklmnopqrstuvwxyz";
const wordStart = "\u2581";
const specialTokens: readonly (readonly [string, number])[] = [
  ["<unk>", 2],
  ["<s>", 3],
  ["</s>", 3],
];
export const minimumVocabularySize = specialTokens.length + 256 + 1;

export function createSyntheticVocabulary(vocabSize: number): SyntheticVocabulary {
  if (!Number.isInteger(vocabSize) || vocabSize < minimumVocabularySize) {
    throw new RangeError(
      `A synthetic vocabulary needs at least ${minimumVocabularySize} tokens, got ${vocabSize}.`,
    );
  }
  const tokens: string[] = [];
  const tokenTypes = new Int32Array(vocabSize);
  const scores = new Float32Array(vocabSize);
  for (const [token, type] of specialTokens) {
    tokenTypes[tokens.length] = type;
    tokens.push(token);
  }
  for (let byte = 0; byte < 256; byte++) {
    tokenTypes[tokens.length] = 6;
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
  }
  const pieces = generatePieces();
  while (tokens.length < vocabSize) {
    const piece = pieces.next();
    if (piece.done === true) throw new RangeError(`Ran out of synthetic pieces at ${tokens.length} tokens.`);
    // Earlier (shorter) pieces score higher, as in a trained SentencePiece model.
    scores[tokens.length] = -tokens.length;
    tokenTypes[tokens.length] = 1;
    tokens.push(piece.value);
  }
  return { tokens, scores, tokenTypes };
}

/** Letter words of length 1, 2, 3, … each with and then without the word-start mark. */
function* generatePieces(): Generator<string> {
  for (let length = 1; length <= 4; length++) {
    for (const word of wordsOfLength(length)) {
      yield wordStart + word;
      yield word;
    }
  }
}

function* wordsOfLength(length: number): Generator<string> {
  if (length === 0) {
    yield "";
    return;
  }
  for (const prefix of wordsOfLength(length - 1)) {
    for (const letter of letters) yield prefix + letter;
  }
}
