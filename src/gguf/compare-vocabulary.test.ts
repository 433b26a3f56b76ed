import { describe, expect, it } from "vitest";
import { vocabularyDifference, type Vocabulary } from "./compare-vocabulary.js";

const names = { target: "big", draft: "small" };
const base: Vocabulary = { tokenizer: "llama", tokens: ["<unk>", "<s>", "a", "b"], types: [2, 3, 1, 1] };

describe("vocabularyDifference", () => {
  it("finds none between equal vocabularies", () => {
    expect(vocabularyDifference(base, { ...base, tokens: [...base.tokens] }, names)).toBeUndefined();
  });

  it("names the token counts when they differ", () => {
    const draft = { ...base, tokens: [...base.tokens, "c"], types: [...base.types, 1] };
    expect(vocabularyDifference(base, draft, names)).toBe(
      'their token counts differ: "big" has 4 tokens, "small" has 5',
    );
  });

  it("names the first differing token text and how many differ", () => {
    const draft = { ...base, tokens: ["<unk>", "<s>", "x", "y"] };
    expect(vocabularyDifference(base, draft, names)).toBe(
      '2 of their 4 token texts differ, the first at id 2: "a" in "big", "x" in "small"',
    );
  });

  it("names the first differing token type", () => {
    const draft = { ...base, types: [2, 3, 1, 4] };
    expect(vocabularyDifference(base, draft, names)).toBe(
      'their token types differ, the first at id 3 ("b"): type 1 in "big", 4 in "small"',
    );
  });

  it("names differing tokenizers and a missing vocabulary", () => {
    expect(vocabularyDifference(base, { ...base, tokenizer: "gpt2" }, names)).toBe(
      'their tokenizers differ: "big" uses llama, "small" uses gpt2',
    );
    expect(vocabularyDifference(base, { ...base, tokens: [] }, names)).toBe(
      '"small" has no vocabulary (tokenizer.ggml.tokens) in its header to compare',
    );
  });
});
