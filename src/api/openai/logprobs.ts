/** OpenAI's logprobs shapes: chat `{content: [...]}` and the legacy completions arrays. */
import type { TokenLogprob } from "../../core/index.js";

const bytesOf = (token: string): number[] => [...Buffer.from(token, "utf8")];

export function chatLogprobs(tokens: readonly TokenLogprob[]) {
  return {
    content: tokens.map((item) => ({
      token: item.token,
      logprob: item.logprob,
      bytes: bytesOf(item.token),
      top_logprobs: item.top.map((top) => ({
        token: top.token,
        logprob: top.logprob,
        bytes: bytesOf(top.token),
      })),
    })),
    refusal: null,
  };
}

/** Legacy /v1/completions: parallel arrays; `textOffset` is where the first token starts in the text. */
export function completionLogprobs(tokens: readonly TokenLogprob[], textOffset = 0) {
  const offsets: number[] = [];
  let offset = textOffset;
  for (const item of tokens) {
    offsets.push(offset);
    offset += item.token.length;
  }
  return {
    tokens: tokens.map((item) => item.token),
    token_logprobs: tokens.map((item) => item.logprob),
    top_logprobs: tokens.map((item) => Object.fromEntries(item.top.map((top) => [top.token, top.logprob]))),
    text_offset: offsets,
  };
}
