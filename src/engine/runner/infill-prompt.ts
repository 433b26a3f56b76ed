/**
 * The fill-in-the-middle prompt, as token ids: [BOS] extra… <PRE> prefix prompt <SUF> suffix <MID>,
 * the order llama-server's /infill uses (PSM), or with --fim-order spm the suffix first. The FIM token ids come from node-llama-cpp, which
 * reads `tokenizer.ggml.fim_pre_token_id` (and the older prefix/suffix/middle keys) and knows the
 * common token texts; text parts are tokenized without special-token parsing, so a file that
 * contains "<|fim_prefix|>" cannot inject one. A model without the three tokens is refused.
 */
import type { LlamaModel, Token } from "node-llama-cpp";
import type { InfillInput } from "../../core/index.js";
import { GenerationError } from "./generation-error.js";

/** llama-server's separator between `input_extra` chunks when the model has no <FILE_SEP> token. */
export const extraChunkSeparator = "\n\n--- snippet ---\n\n";

export interface InfillTokens {
  prefix: Token;
  suffix: Token;
  middle: Token;
}

export function infillTokensOf(model: LlamaModel): InfillTokens | undefined {
  const { prefix, suffix, middle } = model.tokens.infill;
  if (prefix === null || suffix === null || middle === null) return undefined;
  return { prefix, suffix, middle };
}

export function infillPromptTokens(model: LlamaModel, input: InfillInput, modelName: string): Token[] {
  const fim = infillTokensOf(model);
  if (fim === undefined) {
    throw new GenerationError(
      "bad-request",
      `The model "${modelName}" has no fill-in-the-middle tokens (tokenizer.ggml.fim_pre_token_id, fim_suf, fim_mid in its GGUF metadata), so it cannot complete with a suffix; use a code model trained for FIM (Qwen2.5-Coder, CodeLlama, StarCoder2, DeepSeek-Coder) or send the prompt without suffix.`,
    );
  }
  const text = (value: string): Token[] => (value.length === 0 ? [] : model.tokenize(value, false));
  const tokens: Token[] = [];
  if (model.tokens.shouldPrependBosToken && model.tokens.bos !== null) tokens.push(model.tokens.bos);
  for (const chunk of input.extra ?? []) tokens.push(...text(extraChunkSeparator + chunk.text));
  const prefix = [fim.prefix, ...text(input.prefix), ...text(input.prompt ?? "")];
  const suffix = [fim.suffix, ...text(input.suffix)];
  // SPM (llama-server's --spm-infill): the suffix first, so typing at the cursor keeps it cached.
  if (input.order === "spm") tokens.push(...suffix, ...prefix, fim.middle);
  else tokens.push(...prefix, ...suffix, fim.middle);
  return tokens;
}
