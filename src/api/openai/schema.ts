/** OpenAI request schemas (chat, completions, embeddings), validated at the edge. */
import { z } from "zod";
import {
  finiteNumber,
  jsonSchemaObject,
  maxTokensSchema,
  prioritySchema,
  stopSchema,
} from "../common-schema.js";

const textPart = z.object({ type: z.literal("text"), text: z.string() });

const messageSchema = z.object({
  role: z.enum(
    ["system", "developer", "user", "assistant"],
    "expected role system, developer, user or assistant",
  ),
  content: z
    .union([z.string(), z.array(textPart).min(1)], "expected a string or an array of text parts")
    .nullable()
    .optional(),
  name: z.string().optional(),
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
  user: z.string().optional(),
  priority: prioritySchema.optional(),
  /** llama-server extension: stream prompt-processing progress. */
  return_progress: z.boolean().optional(),
});

export function chatRequestSchema(maxTokensLimit: number) {
  return z.object({
    ...samplingFields(maxTokensLimit),
    messages: z.array(messageSchema).min(1, "messages must contain at least one message"),
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
    prompt: z.union([z.string(), z.array(z.string()).length(1, "only one prompt per request is supported")]),
    echo: z.literal(false, "echo is not supported").optional(),
    suffix: z.null("suffix is not supported").optional(),
  });
}

export const embeddingRequestSchema = z.object({
  model: z.string().min(1, "model is required"),
  input: z.union(
    [z.string(), z.array(z.string()).min(1).max(2048)],
    "expected a string or an array of strings",
  ),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

export type ChatRequestBody = z.infer<ReturnType<typeof chatRequestSchema>>;
export type CompletionRequestBody = z.infer<ReturnType<typeof completionRequestSchema>>;
