/**
 * Whether a plain-text prompt names the model's special tokens. llama-server parses special tokens
 * in every prompt; RawrXD parses them in /v1/completions prompts only when the text contains one
 * (Continue's OpenAI-provider FIM sends "<|fim_prefix|>…<|fim_middle|>" as plain text), because
 * parsing changes how llama.cpp splits some ordinary text (docs/decisions/0028). Control and
 * unknown tokens are the ones llama.cpp leaves as text unless asked; user-defined tokens it always
 * matches.
 */
import type { LlamaModel } from "node-llama-cpp";

const unknownType = 2;
const controlType = 3;
const textsByModel = new WeakMap<LlamaModel, readonly string[]>();

export function specialTokenTexts(model: LlamaModel): readonly string[] {
  let texts = textsByModel.get(model);
  if (texts === undefined) {
    const ggml = model.fileInfo.metadata?.tokenizer?.ggml as
      { tokens?: readonly string[]; token_type?: ArrayLike<number> } | undefined;
    const tokens = ggml?.tokens ?? [];
    const types = ggml?.token_type;
    const found: string[] = [];
    if (types !== undefined) {
      for (let id = 0; id < tokens.length; id++) {
        const type = types[id];
        const text = tokens[id];
        if ((type === controlType || type === unknownType) && text !== undefined && text.length > 1) {
          found.push(text);
        }
      }
    }
    texts = found;
    textsByModel.set(model, texts);
  }
  return texts;
}

export function containsSpecialToken(model: LlamaModel, text: string): boolean {
  return specialTokenTexts(model).some((special) => text.includes(special));
}
