/**
 * The model's tokenizer and chat template as a service (llama-server's /tokenize, /detokenize and
 * /apply-template): asked of the runner that has the model loaded, through the scheduler.
 */
import type { ChatMessage } from "./inference.js";

export type TokenizerRequest =
  | {
      kind: "tokenize";
      text: string;
      /** Add the model's BOS (and EOS, where the model appends one), as llama.cpp's add_special. */
      addSpecial: boolean;
      /** Read special-token texts (`<|fim_prefix|>`, `<s>`) in `text` as those tokens. */
      parseSpecial: boolean;
      withPieces: boolean;
    }
  | { kind: "detokenize"; tokens: number[] }
  /** The chat rendered by the model's template (or the plain fallback), ready for the assistant's turn. */
  | { kind: "apply-template"; messages: ChatMessage[] };

/** A token's text, or its bytes when they are not UTF-8 on their own (byte-fallback tokens). */
export type TokenPiece = string | number[];

export type TokenizerResult =
  | { kind: "tokenize"; tokens: number[]; pieces?: TokenPiece[] | undefined }
  | { kind: "detokenize"; content: string }
  | { kind: "apply-template"; prompt: string };
