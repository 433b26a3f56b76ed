/** Ollama request schemas (/api/generate, /api/chat, /api/embed, /api/show). */
import { z } from "zod";
import {
  finiteNumber,
  ignored,
  jsonSchemaObject,
  notSupported,
  prioritySchema,
  stopSchema,
  stringOrStrings,
} from "../common-schema.js";
import { messageToolCallsSchema, toolsSchema } from "./tool-calls.js";

/** Ollama `options`: unknown keys are ignored, as Ollama does. */
export function optionsSchema(maxTokensLimit: number) {
  return z
    .object({
      temperature: finiteNumber.min(0).max(2).optional(),
      top_p: finiteNumber.min(0).max(1).optional(),
      top_k: z.number().int().min(0).optional(),
      min_p: finiteNumber.min(0).max(1).optional(),
      seed: z.number().int().optional(),
      // -1: until the context is full, -2: fill the context (both capped by the server's limit).
      num_predict: z
        .number()
        .int()
        .min(-2, "must be -2, -1 or a positive count")
        .max(maxTokensLimit, `must be at most ${maxTokensLimit} (the server's --max-tokens-limit)`)
        .refine((value) => value !== 0, "must not be 0")
        .optional(),
      stop: stopSchema,
      repeat_penalty: finiteNumber.min(0).max(10).optional(),
      repeat_last_n: z.number().int().min(-1).max(4096).optional(),
      frequency_penalty: finiteNumber.min(-2).max(2).optional(),
      presence_penalty: finiteNumber.min(-2).max(2).optional(),
      // A cap below the server's --context-size; a larger value (Cline sends 32768) leaves the server's.
      num_ctx: z.number().int().positive().optional(),
      mirostat: z.literal(0, "mirostat sampling is not supported; omit it or send 0").optional(),
      typical_p: z.literal(1, "typical_p sampling is not supported; omit it or send 1").optional(),
      tfs_z: z.literal(1, "tail-free sampling (tfs_z) is not supported; omit it or send 1").optional(),
      // Load-time settings, chosen per server (--threads, --gpu-layers, …), not per request.
      num_keep: ignored,
      num_batch: ignored,
      num_gpu: ignored,
      main_gpu: ignored,
      num_thread: ignored,
      numa: ignored,
      use_mmap: ignored,
      use_mlock: ignored,
      low_vram: ignored,
      vocab_only: ignored,
      penalize_newline: ignored,
      mirostat_tau: ignored,
      mirostat_eta: ignored,
    })
    .passthrough()
    .optional();
}

const keepAliveSchema = z
  .union([z.string(), finiteNumber], 'expected a duration such as "5m" or a number of seconds')
  .optional();
const formatSchema = z
  .union([z.literal("json"), z.literal(""), jsonSchemaObject], 'expected "json" or a JSON schema object')
  .optional();
const noImages = z.array(z.string()).max(0, "images are not supported by RawrXD yet").optional();
const think = z
  .literal(false, "thinking is not supported by this server's models; omit think or send false")
  .optional();

export function generateRequestSchema(maxTokensLimit: number) {
  return z.object({
    model: z.string().min(1, "model is required"),
    prompt: z.string().optional(),
    system: z.string().optional(),
    raw: z.boolean().optional(),
    /** Fill-in-the-middle: text after the cursor (a non-empty suffix needs a model with FIM tokens). */
    suffix: z.string().optional(),
    images: noImages,
    template: notSupported.nonEmpty(
      "template",
      "prompts use the model's own chat template; send raw: true to format it yourself",
    ),
    context: notSupported.nonEmpty(
      "context",
      "RawrXD returns no context to continue from; send the conversation to /api/chat",
    ),
    format: formatSchema,
    options: optionsSchema(maxTokensLimit),
    stream: z.boolean().optional(),
    keep_alive: keepAliveSchema,
    think,
    logprobs: notSupported.logprobs,
    top_logprobs: notSupported.topLogprobs,
    priority: prioritySchema.optional(),
    return_progress: z.boolean().optional(),
  });
}

export function chatRequestSchema(maxTokensLimit: number) {
  return z.object({
    model: z.string().min(1, "model is required"),
    messages: z
      .array(
        z.object({
          role: z.enum(
            ["system", "user", "assistant", "tool"],
            "expected role system, user, assistant or tool",
          ),
          content: z.string().optional(),
          images: noImages,
          tool_calls: messageToolCallsSchema,
          tool_name: z.string().optional(),
          tool_call_id: z.string().optional(),
        }),
      )
      .optional(),
    tools: toolsSchema,
    format: formatSchema,
    options: optionsSchema(maxTokensLimit),
    stream: z.boolean().optional(),
    keep_alive: keepAliveSchema,
    think,
    logprobs: notSupported.logprobs,
    top_logprobs: notSupported.topLogprobs,
    priority: prioritySchema.optional(),
    return_progress: z.boolean().optional(),
  });
}

export const embedRequestSchema = z.object({
  model: z.string().min(1, "model is required"),
  input: stringOrStrings({ min: 1, max: 2048, what: "inputs" }),
  /** Accepted; an input longer than the embedding context is an error either way (see README). */
  truncate: z.boolean().optional(),
  dimensions: notSupported.nonEmpty("dimensions", "embeddings have the model's own size"),
  options: ignored,
  keep_alive: keepAliveSchema,
});

export const showRequestSchema = z
  .object({ model: z.string().min(1).optional(), name: z.string().min(1).optional() })
  .refine((body) => body.model !== undefined || body.name !== undefined, "model is required");

export type GenerateBody = z.infer<ReturnType<typeof generateRequestSchema>>;
export type ChatBody = z.infer<ReturnType<typeof chatRequestSchema>>;
export type OllamaOptions = NonNullable<GenerateBody["options"]>;
