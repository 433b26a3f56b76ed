/**
 * llama-server's /tokenize, /detokenize and /apply-template, answered from the loaded model's
 * vocabulary and chat template. Token ids from a client are checked against the vocabulary
 * before llama.cpp sees them. `apply-template` renders the chat as a generation does (prompt.ts:
 * the model's template through node-llama-cpp's chat wrapper, or the plain fallback) as text.
 */
import {
  resolveChatWrapper,
  SpecialToken,
  SpecialTokensText,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import type { ChatMessage, TokenizerRequest, TokenizerResult, TokenPiece } from "../../core/index.js";
import { renderPlainChat } from "../plain-chat.js";
import { toChatHistory } from "./chat-history.js";
import { GenerationError } from "./generation-error.js";

export function answerTokenizer(model: LlamaModel, request: TokenizerRequest): TokenizerResult {
  switch (request.kind) {
    case "tokenize": {
      const tokens = tokenize(model, request);
      return {
        kind: "tokenize",
        tokens,
        pieces: request.withPieces ? tokens.map((token, index) => pieceOf(model, tokens, index)) : undefined,
      };
    }
    case "detokenize": {
      checkIds(model, request.tokens);
      return { kind: "detokenize", content: model.detokenize(request.tokens as Token[], true) };
    }
    case "apply-template":
      return { kind: "apply-template", prompt: renderChat(model, request.messages) };
  }
}

/** The chat as prompt.ts renders it for a generation, as text: builtin tokens (BOS) as their text. */
function renderChat(model: LlamaModel, messages: readonly ChatMessage[]): string {
  const bosText = (): string => {
    const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
    return bos === null ? "" : model.detokenize([bos], true);
  };
  if (typeof model.fileInfo.metadata.tokenizer?.chat_template !== "string") {
    return bosText() + renderPlainChat(messages);
  }
  const wrapper = resolveChatWrapper(model);
  const { contextText } = wrapper.generateContextState({ chatHistory: toChatHistory(messages) });
  return contextText.values
    .map((value) =>
      value instanceof SpecialToken
        ? model.detokenize(value.tokenize(model.tokenizer), true)
        : value instanceof SpecialTokensText
          ? value.value
          : value,
    )
    .join("");
}

function tokenize(model: LlamaModel, request: Extract<TokenizerRequest, { kind: "tokenize" }>): Token[] {
  const tokens = request.text === "" ? [] : model.tokenize(request.text, request.parseSpecial);
  if (!request.addSpecial) return tokens;
  const { bos, eos } = model.tokens;
  return [
    ...(model.tokens.shouldPrependBosToken && bos !== null ? [bos] : []),
    ...tokens,
    ...(model.tokens.shouldAppendEosToken && eos !== null ? [eos] : []),
  ];
}

/**
 * The token's text as llama-server shows it (a SentencePiece "▁upon" is " upon": the token before
 * it, or BOS, is passed as context so the detokenizer keeps the space); byte-fallback tokens
 * (`<0xE2>`) are their byte, as llama-server shows a piece that is not UTF-8.
 */
function pieceOf(model: LlamaModel, tokens: readonly Token[], index: number): TokenPiece {
  const token = tokens[index]!;
  const vocabulary = model.fileInfo.metadata?.tokenizer?.ggml?.tokens as readonly string[] | undefined;
  const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(vocabulary?.[token] ?? "");
  if (byte !== null) return [Number.parseInt(byte[1]!, 16)];
  const before = index > 0 ? tokens[index - 1]! : model.tokens.bos;
  return model.detokenize([token], true, before === null ? undefined : [before]);
}

function checkIds(model: LlamaModel, tokens: readonly number[]): void {
  const size = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;
  const bad = tokens.find((token) => typeof size === "number" && token >= size);
  if (bad !== undefined) {
    throw new GenerationError(
      "bad-request",
      `Token id ${bad} is not in the model's vocabulary (ids 0 to ${Number(size) - 1}); send ids from /tokenize.`,
    );
  }
}
