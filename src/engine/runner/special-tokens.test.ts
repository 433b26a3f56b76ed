import type { LlamaModel } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { containsSpecialToken, specialTokenTexts } from "./special-tokens.js";

/** The part of a LlamaModel special-tokens.ts reads: the GGUF vocabulary and token types. */
function modelWith(tokens: string[], types: number[]): LlamaModel {
  return {
    fileInfo: { metadata: { tokenizer: { ggml: { tokens, token_type: types } } } },
  } as unknown as LlamaModel;
}

describe("special-token texts in a prompt", () => {
  const model = modelWith(
    ["<unk>", "<s>", "</s>", "▁the", "<|fim_prefix|>", "<|user_defined|>", "<0x0A>", "a"],
    [2, 3, 3, 1, 3, 4, 6, 1],
  );

  it("lists control and unknown tokens, not normal, user-defined or byte tokens", () => {
    expect(specialTokenTexts(model)).toEqual(["<unk>", "<s>", "</s>", "<|fim_prefix|>"]);
  });

  it("finds them anywhere in the text", () => {
    expect(containsSpecialToken(model, "x = 1<|fim_prefix|>def")).toBe(true);
    expect(containsSpecialToken(model, "<s>Once")).toBe(true);
    expect(containsSpecialToken(model, "Once upon a time <|user_defined|> <0x0A>")).toBe(false);
    expect(containsSpecialToken(model, "<|fim_prefix")).toBe(false);
  });

  it("finds none in a model without token types", () => {
    const bare = { fileInfo: { metadata: {} } } as unknown as LlamaModel;
    expect(specialTokenTexts(bare)).toEqual([]);
    expect(containsSpecialToken(bare, "<s>")).toBe(false);
  });
});
