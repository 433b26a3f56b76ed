/**
 * A synthetic llama model with fill-in-the-middle tokens: the vocabulary's last three pieces
 * become the control tokens `<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`, named by
 * `tokenizer.ggml.fim_pre_token_id`, `fim_suf_token_id` and `fim_mid_token_id` (or, with
 * `legacyKeys`, the older `prefix_token_id`, `suffix_token_id`, `middle_token_id`).
 */
import type { GgufWriteKeyValue } from "./gguf-encoding.js";
import { writeGguf, type WriteGgufOptions, type WrittenGguf } from "./gguf-writer.js";
import { createLlamaModelContents, type LlamaModelShape } from "./llama-model-writer.js";

const controlTokenType = 3;
const fimTokenTexts = ["<fim_prefix>", "<fim_suffix>", "<fim_middle>"] as const;

export interface FimModelOptions {
  /** Write the older prefix/suffix/middle keys instead of fim_pre/fim_suf/fim_mid. */
  legacyKeys?: boolean;
}

export function createFimModelContents(
  shape: LlamaModelShape,
  options: FimModelOptions = {},
): WriteGgufOptions {
  const contents = createLlamaModelContents(shape);
  const ids = [shape.vocabSize - 3, shape.vocabSize - 2, shape.vocabSize - 1] as const;
  const keyValues = contents.keyValues.map((entry): GgufWriteKeyValue => {
    if (entry.key === "tokenizer.ggml.tokens") {
      const tokens = [...(entry.value as readonly string[])];
      ids.forEach((id, index) => (tokens[id] = fimTokenTexts[index]!));
      return { ...entry, value: tokens };
    }
    if (entry.key === "tokenizer.ggml.token_type") {
      const types = Int32Array.from(entry.value as Int32Array);
      for (const id of ids) types[id] = controlTokenType;
      return { ...entry, value: types };
    }
    return entry;
  });
  const names =
    options.legacyKeys === true ? ["prefix", "suffix", "middle"] : ["fim_pre", "fim_suf", "fim_mid"];
  names.forEach((name, index) =>
    keyValues.push({ key: `tokenizer.ggml.${name}_token_id`, type: "uint32", value: ids[index]! }),
  );
  return { ...contents, keyValues };
}

export async function writeFimModel(
  path: string,
  shape: LlamaModelShape,
  options: FimModelOptions = {},
): Promise<WrittenGguf> {
  return writeGguf(path, createFimModelContents(shape, options));
}
