/**
 * What a generation's sampler is given: the request's sampling options in node-llama-cpp's
 * terms (penalties over the tokens sampled so far, a per-request seed, the JSON grammar).
 */
import {
  LlamaGrammarEvaluationState,
  type LlamaGrammar,
  type SequenceEvaluateOptions,
  type Token,
} from "node-llama-cpp";
import type { GenerateRequest } from "../../core/index.js";
import { GenerationError } from "./generation-error.js";
import type { ModelHost } from "./model-host.js";

export function samplingFor(
  options: { host: ModelHost; request: GenerateRequest; grammar: LlamaGrammar | undefined },
  sampled: Token[],
): SequenceEvaluateOptions {
  const { sampling } = options.request;
  const lastN = sampling.repeatLastN ?? 64;
  return {
    temperature: sampling.temperature,
    ...(sampling.topK === undefined ? {} : { topK: sampling.topK }),
    ...(sampling.topP === undefined ? {} : { topP: sampling.topP }),
    ...(sampling.minP === undefined ? {} : { minP: sampling.minP }),
    // node-llama-cpp's default seed is the current second: two unseeded requests would match.
    seed: sampling.seed ?? Math.floor(Math.random() * 2 ** 31),
    ...(isPenaltyActive(sampling)
      ? {
          repeatPenalty: {
            punishTokens: () => sampled.slice(-lastN),
            maxPunishTokens: lastN,
            penalty: sampling.repeatPenalty ?? 1,
            frequencyPenalty: sampling.frequencyPenalty ?? 0,
            presencePenalty: sampling.presencePenalty ?? 0,
          },
        }
      : {}),
    ...(options.grammar === undefined
      ? {}
      : {
          grammarEvaluationState: new LlamaGrammarEvaluationState({
            model: options.host.model,
            grammar: options.grammar,
          }),
        }),
    evaluationPriority:
      options.request.priority === "high" ? 5 : options.request.priority === "normal" ? 4 : 3,
    yieldEogToken: true,
  };
}

/** Whether a repeat, frequency or presence penalty applies (over a window of at least one token). */
export function isPenaltyActive(sampling: GenerateRequest["sampling"]): boolean {
  return (
    (sampling.repeatLastN ?? 64) > 0 &&
    ((sampling.repeatPenalty !== undefined && sampling.repeatPenalty !== 1) ||
      (sampling.frequencyPenalty ?? 0) !== 0 ||
      (sampling.presencePenalty ?? 0) !== 0)
  );
}

export async function resolveGrammar(
  host: ModelHost,
  request: GenerateRequest,
): Promise<LlamaGrammar | undefined> {
  if (request.json === undefined) return undefined;
  try {
    if (request.json.schema === undefined) return await host.llama.getGrammarFor("json");
    // The schema was validated as JSON at the API edge; node-llama-cpp rejects what it cannot express.
    return await host.llama.createGrammarForJsonSchema(request.json.schema as never);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GenerationError(
      "bad-request",
      `The JSON schema in response_format/format is not supported: ${reason}`,
    );
  }
}
