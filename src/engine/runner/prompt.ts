/**
 * Turns a GenerateInput into prompt tokens. Chats use the model's own template through
 * node-llama-cpp's chat wrappers; a model without a template gets RawrXD's plain fallback
 * (docs/decisions/0003-plain-chat-fallback.md), which is also what stories260K uses.
 */
import { LlamaText, resolveChatWrapper, type LlamaModel, type Token } from "node-llama-cpp";
import type { ChatMessage, GenerateInput } from "../../core/index.js";
import { infillPromptTokens } from "./infill-prompt.js";
import { plainChatStops, renderPlainChat } from "../plain-chat.js";
import { toChatHistory } from "./chat-history.js";
import { containsSpecialToken } from "./special-tokens.js";

export interface PreparedPrompt {
  tokens: Token[];
  /** Stop strings the template adds (e.g. the next turn's marker). */
  stopStrings: string[];
  /** Single-token stop triggers of the template (e.g. <|im_end|> when not an EOG token). */
  stopTokens: Token[];
}

export function preparePrompt(model: LlamaModel, input: GenerateInput, modelName = "model"): PreparedPrompt {
  if (input.kind === "infill") {
    return { tokens: infillPromptTokens(model, input, modelName), stopStrings: [], stopTokens: [] };
  }
  if (input.kind === "text") {
    // Ollama's raw prompt is formatted by the client, special tokens included (Continue's raw FIM
    // prompts "<|fim_prefix|>…"): they are parsed, as Ollama does. Other text prompts
    // (/v1/completions) are parsed when they contain a special token's text: parsing changes how
    // llama.cpp splits some ordinary text (docs/decisions/0021, 0028).
    return {
      tokens: tokenizeText(model, input.prompt, {
        withBos: input.raw !== true,
        parseSpecial: input.raw === true || containsSpecialToken(model, input.prompt),
      }),
      stopStrings: [],
      stopTokens: [],
    };
  }
  const template = model.fileInfo.metadata.tokenizer?.chat_template;
  if (input.kind === "instruction") {
    if (typeof template !== "string") {
      const text = input.system === undefined ? input.prompt : `${input.system}\n\n${input.prompt}`;
      return { tokens: tokenizeText(model, text, { withBos: true }), stopStrings: [], stopTokens: [] };
    }
    const messages: ChatMessage[] =
      input.system === undefined ? [] : [{ role: "system", content: input.system }];
    return preparePrompt(model, {
      kind: "chat",
      messages: [...messages, { role: "user", content: input.prompt }],
    });
  }
  if (typeof template !== "string") {
    return {
      tokens: tokenizeText(model, renderPlainChat(input.messages), { withBos: true }),
      stopStrings: [...plainChatStops],
      stopTokens: [],
    };
  }
  const wrapper = resolveChatWrapper(model);
  const state = wrapper.generateContextState({ chatHistory: toChatHistory(input.messages) });
  const stopStrings: string[] = [];
  const stopTokens: Token[] = [];
  for (const trigger of state.stopGenerationTriggers) {
    const tokens = LlamaText(trigger).tokenize(model.tokenizer);
    if (tokens.length === 1 && model.isSpecialToken(tokens[0])) stopTokens.push(tokens[0]!);
    else if (trigger.toString().length > 0) stopStrings.push(trigger.toString());
  }
  return { tokens: state.contextText.tokenize(model.tokenizer), stopStrings, stopTokens };
}

/**
 * Tokenizes as llama.cpp's own servers do (llama-server's /completion, Ollama's generate): BOS,
 * then the text with the tokenizer's space prefix, so "Once" is "▁Once" as the model was trained.
 * (node-llama-cpp's LlamaCompletion trims that space — "On" "c" "e" — and its greedy text then
 * differs from llama-server's: bench:peer measured 0/9 agreement before, docs/decisions/0033.)
 */
function tokenizeText(
  model: LlamaModel,
  text: string,
  options: { withBos: boolean; parseSpecial?: boolean },
): Token[] {
  const bos = options.withBos && model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
  const tokens = model.tokenize(text, options.parseSpecial === true);
  return bos === null ? tokens : [bos, ...tokens];
}
