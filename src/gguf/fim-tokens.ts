/**
 * Fill-in-the-middle token ids from GGUF metadata: `tokenizer.ggml.fim_pre_token_id`, `fim_suf`,
 * `fim_mid`, or the older `prefix_token_id`, `suffix_token_id`, `middle_token_id`. llama.cpp
 * also recognises FIM tokens by their text (`<|fim_prefix|>`, `<PRE>`) when the keys are absent;
 * the header reader keeps no vocabulary, so this sees the keys only (the runner decides for real).
 */
import type { GgufMetadataValue } from "./read-metadata.js";

export interface FimTokenIds {
  prefix: number;
  suffix: number;
  middle: number;
}

const keySets = [
  ["tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.fim_mid_token_id"],
  ["tokenizer.ggml.prefix_token_id", "tokenizer.ggml.suffix_token_id", "tokenizer.ggml.middle_token_id"],
] as const;

export function fimTokenIds(metadata: ReadonlyMap<string, GgufMetadataValue>): FimTokenIds | undefined {
  for (const [prefixKey, suffixKey, middleKey] of keySets) {
    const prefix = tokenId(metadata.get(prefixKey));
    const suffix = tokenId(metadata.get(suffixKey));
    const middle = tokenId(metadata.get(middleKey));
    if (prefix !== undefined && suffix !== undefined && middle !== undefined)
      return { prefix, suffix, middle };
  }
  return undefined;
}

function tokenId(value: GgufMetadataValue | undefined): number | undefined {
  const id = typeof value === "bigint" ? Number(value) : value;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}
