/**
 * Does a draft model speak the target's vocabulary (docs/decisions/0041)? Speculative decoding
 * with a draft model hands the draft's token ids to the target: they must mean the same text.
 * Compared from the GGUF headers: the token count, each token's text and each token's type.
 */
import { readGgufHeader } from "./read-gguf-header.js";
import { isArraySummary, type GgufMetadataValue } from "./read-metadata.js";

export interface Vocabulary {
  /** `tokenizer.ggml.model` ("llama", "gpt2", …), when present. */
  tokenizer: string | undefined;
  tokens: readonly string[];
  /** `tokenizer.ggml.token_type`; empty when the file has none. */
  types: readonly number[];
}

/** Reads the vocabulary arrays of a GGUF file whole (the header reader summarises long arrays by default). */
export async function readVocabulary(path: string, signal?: AbortSignal): Promise<Vocabulary> {
  const info = await readGgufHeader(path, {
    ...(signal === undefined ? {} : { signal }),
    limits: { maxKeptArrayLength: Number.MAX_SAFE_INTEGER },
  });
  const tokenizer = info.metadata.get("tokenizer.ggml.model");
  return {
    tokenizer: typeof tokenizer === "string" ? tokenizer : undefined,
    tokens: arrayOf(info.metadata.get("tokenizer.ggml.tokens")).map(String),
    types: arrayOf(info.metadata.get("tokenizer.ggml.token_type")).map(Number),
  };
}

/** Longest token text quoted in a difference. */
const maxQuoted = 40;

/**
 * What differs between two vocabularies, as a phrase naming the first difference in terms of
 * `targetName` and `draftName`; undefined when they are the same.
 */
export function vocabularyDifference(
  target: Vocabulary,
  draft: Vocabulary,
  names: { target: string; draft: string },
): string | undefined {
  if (target.tokens.length === 0 || draft.tokens.length === 0) {
    const missing = target.tokens.length === 0 ? names.target : names.draft;
    return `"${missing}" has no vocabulary (tokenizer.ggml.tokens) in its header to compare`;
  }
  if (target.tokenizer !== draft.tokenizer) {
    return `their tokenizers differ: "${names.target}" uses ${target.tokenizer ?? "none"}, "${names.draft}" uses ${draft.tokenizer ?? "none"}`;
  }
  if (target.tokens.length !== draft.tokens.length) {
    return `their token counts differ: "${names.target}" has ${target.tokens.length} tokens, "${names.draft}" has ${draft.tokens.length}`;
  }
  let textDiffers = 0;
  let firstText: number | undefined;
  for (let id = 0; id < target.tokens.length; id++) {
    if (target.tokens[id] === draft.tokens[id]) continue;
    textDiffers++;
    firstText ??= id;
  }
  if (firstText !== undefined) {
    return `${textDiffers} of their ${target.tokens.length} token texts differ, the first at id ${firstText}: ${quote(target.tokens[firstText]!)} in "${names.target}", ${quote(draft.tokens[firstText]!)} in "${names.draft}"`;
  }
  if (target.types.length !== draft.types.length) {
    return `only one of them lists token types: "${names.target}" ${target.types.length}, "${names.draft}" ${draft.types.length}`;
  }
  const firstType = target.types.findIndex((type, id) => type !== draft.types[id]);
  if (firstType >= 0) {
    return `their token types differ, the first at id ${firstType} (${quote(target.tokens[firstType]!)}): type ${target.types[firstType]} in "${names.target}", ${draft.types[firstType]} in "${names.draft}"`;
  }
  return undefined;
}

function quote(text: string): string {
  const shown = text.length > maxQuoted ? `${text.slice(0, maxQuoted)}…` : text;
  return JSON.stringify(shown);
}

function arrayOf(value: GgufMetadataValue | undefined): readonly GgufMetadataValue[] {
  if (value === undefined || !Array.isArray(value) || isArraySummary(value)) return [];
  return value as readonly GgufMetadataValue[];
}
