/** Translation of /infill bodies to the native request, and llama-server's answer shapes. */
import type { GenerateRequest, Priority, Usage } from "../../core/index.js";
import { toStopList } from "../common-schema.js";
import type { CollectedGeneration } from "../generation.js";
import type { InfillBody } from "./schema.js";

export function infillToNative(
  body: InfillBody,
  options: { id: string; model: string; priority: Priority; maxTokensLimit: number },
): GenerateRequest {
  const nPredict = body.n_predict ?? -1;
  return {
    id: options.id,
    model: options.model,
    input: {
      kind: "infill",
      prefix: body.input_prefix,
      suffix: body.input_suffix,
      prompt: body.prompt,
      extra: body.input_extra.map((chunk) => ({ text: chunk.text, filename: chunk.filename })),
    },
    // Warm-up (n_predict 0) evaluates the prompt and samples one token, which is not returned.
    maxTokens: nPredict < 0 ? options.maxTokensLimit : Math.max(1, nPredict),
    stop: toStopList(body.stop),
    // llama-server's defaults (temperature 0.8, top_k 40, top_p 0.95, min_p 0.05).
    sampling: {
      temperature: body.temperature ?? 0.8,
      topK: body.top_k ?? 40,
      topP: body.top_p ?? 0.95,
      minP: body.min_p ?? 0.05,
      ...(body.seed === undefined ? {} : { seed: body.seed }),
      ...(body.repeat_penalty === undefined ? {} : { repeatPenalty: body.repeat_penalty }),
    },
    reportProgress: false,
    priority: options.priority,
  };
}

export function timingsBody(usage: Usage, timings: { promptMs: number; decodeMs: number }) {
  const evaluated = usage.promptTokens - usage.cachedTokens;
  const perToken = (ms: number, count: number): number => (count > 0 ? ms / count : 0);
  const perSecond = (ms: number, count: number): number => (ms > 0 ? (count * 1000) / ms : 0);
  return {
    cache_n: usage.cachedTokens,
    prompt_n: evaluated,
    prompt_ms: timings.promptMs,
    prompt_per_token_ms: perToken(timings.promptMs, evaluated),
    prompt_per_second: perSecond(timings.promptMs, evaluated),
    predicted_n: usage.completionTokens,
    predicted_ms: timings.decodeMs,
    predicted_per_token_ms: perToken(timings.decodeMs, usage.completionTokens),
    predicted_per_second: perSecond(timings.decodeMs, usage.completionTokens),
  };
}

/** One completion as llama-server's /infill answers it (the fields llama.vscode reads, and more). */
export function completionBody(
  result: CollectedGeneration,
  options: { index: number; model: string; isWarmUp: boolean },
) {
  return {
    index: options.index,
    content: options.isWarmUp ? "" : result.text,
    tokens: [],
    id_slot: -1,
    stop: true,
    model: options.model,
    tokens_predicted: options.isWarmUp ? 0 : result.usage.completionTokens,
    tokens_evaluated: result.usage.promptTokens,
    tokens_cached: result.usage.cachedTokens,
    truncated: false,
    has_new_line: !options.isWarmUp && result.text.includes("\n"),
    stop_type: result.reason === "length" ? "limit" : "eos",
    stopping_word: "",
    timings: timingsBody(result.usage, result.timings),
  };
}

/** Applies the server's --fim-order to a fill-in-the-middle request; other requests pass unchanged. */
export function withFimOrder<Request extends GenerateRequest>(
  request: Request,
  order: "psm" | "spm",
): Request {
  return request.input.kind === "infill" ? { ...request, input: { ...request.input, order } } : request;
}
