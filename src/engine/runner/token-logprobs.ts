/**
 * Generation with per-token log-probabilities, only when a request asks for them: node-llama-cpp's
 * `evaluateWithMetadata` reports the chosen token's probability (`confidence`) and, for top
 * alternatives, the whole sorted distribution, a pass over the vocabulary per token.
 */
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { TokenLogprob } from "../../core/index.js";

type EvaluateOptions = Parameters<LlamaContextSequence["evaluate"]>[1];

export interface TokenStream {
  tokens: AsyncGenerator<Token, void, void>;
  /** Log-probabilities of the tokens yielded since the last call; undefined when not asked for. */
  take(count: number): TokenLogprob[] | undefined;
}

export function evaluateTokens(
  sequence: LlamaContextSequence,
  model: LlamaModel,
  input: { tokens: Token[]; options: EvaluateOptions; logprobs: { top: number } | undefined },
): TokenStream {
  const { logprobs } = input;
  if (logprobs === undefined)
    return { tokens: sequence.evaluate(input.tokens, input.options), take: () => undefined };
  const recorded: TokenLogprob[] = [];
  const text = (token: Token): string => model.detokenize([token], true);
  async function* tokens(): AsyncGenerator<Token, void, void> {
    const metadata = { confidence: true, probabilities: logprobs!.top > 0 } as const;
    for await (const output of sequence.evaluateWithMetadata(input.tokens, metadata, input.options)) {
      const top: TokenLogprob["top"] = [];
      const distribution = (output as { probabilities?: Map<Token, number> }).probabilities;
      if (distribution !== undefined) {
        for (const [token, probability] of distribution) {
          if (top.length >= logprobs!.top) break;
          top.push({ token: text(token), logprob: Math.log(probability) });
        }
      }
      recorded.push({ token: text(output.token), logprob: Math.log(output.confidence), top });
      yield output.token;
    }
  }
  return { tokens: tokens(), take: (count) => recorded.splice(0, count) };
}
