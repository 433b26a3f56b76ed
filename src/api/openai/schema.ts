/** OpenAI request schemas (chat, completions, embeddings), validated at the edge. */
import { z } from "zod";
import {
  finiteNumber,
  ignored,
  jsonSchemaObject,
  maxTokensSchema,
  notSupported,
  prioritySchema,
  stopSchema,
  stringOrStrings,
} from "../common-schema.js";
import { assistantToolCallsSchema, toolChoiceSchema, toolsSchema } from "./tool-calls.js";

const textPart = z.object({ type: z.literal("text"), text: z.string() });

const messageSchema = z.object({
  role: z.enum(
    ["system", "developer", "user", "assistant", "tool"],
    "expected role system, developer, user, assistant or tool",
  ),
  content: z
    .union([z.string(), z.array(textPart).min(1)], "expected a string or an array of text parts")
    .nullable()
    .optional(),
  name: z.string().optional(),
  tool_calls: assistantToolCallsSchema,
  tool_call_id: z.string().optional(),
});

const samplingFields = (maxTokensLimit: number) => ({
  model: z.string().min(1, "model is required"),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: maxTokensSchema(maxTokensLimit).nullable().optional(),
  max_completion_tokens: maxTokensSchema(maxTokensLimit).nullable().optional(),
  temperature: finiteNumber.min(0).max(2).nullable().optional(),
  top_p: finiteNumber.min(0).max(1).nullable().optional(),
  top_k: z.number().int().min(0).nullable().optional(),
  min_p: finiteNumber.min(0).max(1).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop: stopSchema.nullable(),
  frequency_penalty: finiteNumber.min(-2).max(2).nullable().optional(),
  presence_penalty: finiteNumber.min(-2).max(2).nullable().optional(),
  repeat_penalty: finiteNumber.min(0).max(10).nullable().optional(),
  n: z.literal(1, "only n=1 is supported").nullable().optional(),
  logprobs: notSupported.logprobs,
  top_logprobs: notSupported.topLogprobs,
  logit_bias: notSupported.logitBias,
  priority: prioritySchema.optional(),
  /** llama-server extension: stream prompt-processing progress. */
  return_progress: z.boolean().optional(),
  // Accepted and ignored (README "Request parameters" says why).
  user: ignored,
  store: ignored,
  metadata: ignored,
  service_tier: ignored,
  prompt_cache_key: ignored,
  safety_identifier: ignored,
});

export function chatRequestSchema(maxTokensLimit: number) {
  return z.object({
    ...samplingFields(maxTokensLimit),
    messages: z.array(messageSchema).min(1, "messages must contain at least one message"),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20, "top_logprobs must be at most 20").nullable().optional(),
    tools: toolsSchema,
    tool_choice: toolChoiceSchema,
    parallel_tool_calls: z.boolean().nullable().optional(),
    // The deprecated function-calling fields: tools replaced them.
    functions: notSupported.nonEmpty("functions", "send them as tools"),
    function_call: notSupported.toolChoice,
    prediction: ignored,
    reasoning_effort: ignored,
    verbosity: ignored,
    modalities: z.array(z.literal("text", "only text output is supported")).nullable().optional(),
    audio: notSupported.nonEmpty("audio", "RawrXD generates text only"),
    web_search_options: notSupported.nonEmpty("web_search_options", "RawrXD has no web search"),
    response_format: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("text") }),
        z.object({ type: z.literal("json_object") }),
        z.object({
          type: z.literal("json_schema"),
          json_schema: z.object({
            name: z.string().optional(),
            schema: jsonSchemaObject.optional(),
            strict: z.boolean().nullable().optional(),
          }),
        }),
      ])
      .optional(),
  });
}

export function completionRequestSchema(maxTokensLimit: number) {
  return z.object({
    ...samplingFields(maxTokensLimit),
    prompt: stringOrStrings({ min: 1, max: 1, what: "prompt" }),
    echo: z.literal(false, "echo is not supported").optional(),
    /** Legacy completions: the number of most likely alternatives per token (0-5). */
    logprobs: z.number().int().min(0).max(5, "logprobs must be at most 5").nullable().optional(),
    /** Fill-in-the-middle: text after the insertion point (needs a model with FIM tokens). */
    suffix: z.string().nullable().optional(),
    best_of: z.literal(1, "only best_of=1 is supported").nullable().optional(),
  });
}

export const embeddingRequestSchema = z.object({
  model: z.string().min(1, "model is required"),
  input: stringOrStrings({ min: 1, max: 2048, what: "inputs" }),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: notSupported.nonEmpty("dimensions", "embeddings have the model's own size"),
  user: ignored,
});

export type ChatRequestBody = z.infer<ReturnType<typeof chatRequestSchema>>;
export type CompletionRequestBody = z.infer<ReturnType<typeof completionRequestSchema>>;
