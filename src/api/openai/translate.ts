/** Pure translation between OpenAI wire shapes and the native GenerateRequest / events. */
import type { ChatMessage, FinishReason, GenerateRequest, Priority, Usage } from "../../core/index.js";
import { toStopList } from "../common-schema.js";
import type { ChatRequestBody, CompletionRequestBody } from "./schema.js";
import { nameToolResults, toolCallsToNative, toolOptions } from "./tool-calls.js";

export function chatToNative(
  body: ChatRequestBody,
  options: { id: string; priority: Priority; maxTokensDefault: number },
): GenerateRequest {
  const messages: ChatMessage[] = body.messages.map((message) => {
    const toolCalls = toolCallsToNative(message.tool_calls);
    return {
      role: message.role === "developer" ? "system" : message.role,
      content:
        typeof message.content === "string"
          ? message.content
          : (message.content ?? []).map((part) => part.text).join(""),
      ...(toolCalls === undefined ? {} : { toolCalls }),
      ...(message.tool_call_id === undefined ? {} : { toolCallId: message.tool_call_id }),
    };
  });
  const tools = toolOptions(body);
  const format = body.response_format;
  return {
    ...common(body, options),
    input: { kind: "chat", messages: nameToolResults(messages) },
    ...(tools === undefined ? {} : { tools }),
    logprobs: body.logprobs === true ? { top: body.top_logprobs ?? 0 } : undefined,
    json:
      format === undefined || format.type === "text"
        ? undefined
        : format.type === "json_object"
          ? {}
          : { ...(format.json_schema.schema === undefined ? {} : { schema: format.json_schema.schema }) },
  };
}

export function completionToNative(
  body: CompletionRequestBody,
  options: { id: string; priority: Priority; maxTokensDefault: number },
): GenerateRequest {
  const prompt = Array.isArray(body.prompt) ? body.prompt[0]! : body.prompt;
  const input: GenerateRequest["input"] =
    body.suffix == null || body.suffix === ""
      ? { kind: "text", prompt }
      : { kind: "infill", prefix: prompt, suffix: body.suffix };
  return {
    ...common(body, options),
    input,
    logprobs: body.logprobs == null ? undefined : { top: body.logprobs },
  };
}

function common(
  body: ChatRequestBody | CompletionRequestBody,
  options: { id: string; priority: Priority; maxTokensDefault: number },
): Omit<GenerateRequest, "input"> {
  return {
    id: options.id,
    model: body.model,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? options.maxTokensDefault,
    stop: toStopList(body.stop),
    // OpenAI's defaults: temperature 1, top_p 1; no top_k.
    sampling: {
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      ...(body.top_k == null ? {} : { topK: body.top_k }),
      ...(body.min_p == null ? {} : { minP: body.min_p }),
      ...(body.seed == null ? {} : { seed: body.seed }),
      ...(body.repeat_penalty == null ? {} : { repeatPenalty: body.repeat_penalty }),
      ...(body.frequency_penalty == null ? {} : { frequencyPenalty: body.frequency_penalty }),
      ...(body.presence_penalty == null ? {} : { presencePenalty: body.presence_penalty }),
    },
    reportProgress: body.return_progress === true,
    priority: options.priority,
  };
}

export function finishReason(reason: FinishReason): "stop" | "length" | "tool_calls" {
  if (reason === "tool-calls") return "tool_calls";
  return reason === "length" ? "length" : "stop";
}

export function usageBody(usage: Usage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
    // Speculative decoding (prompt lookup), in OpenAI's predicted-outputs fields: drafted tokens
    // the model confirmed, and those it refuted (or that were not needed).
    ...(usage.draftedTokens === undefined
      ? {}
      : {
          completion_tokens_details: {
            accepted_prediction_tokens: usage.acceptedTokens ?? 0,
            rejected_prediction_tokens: usage.draftedTokens - (usage.acceptedTokens ?? 0),
          },
        }),
  };
}

/** OpenAI embeddings with encoding_format "base64": little-endian float32 bytes. */
export function toBase64Floats(vector: readonly number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}
