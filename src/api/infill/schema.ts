/**
 * llama-server's `POST /infill` body, as llama.vscode sends it. Fields llama-server uses for its
 * own slots and time budgets (id_slot, cache_prompt, samplers, t_max_*, n_indent) are accepted and
 * ignored: RawrXD always reuses the cached prefix and has no slot ids.
 */
import { z } from "zod";
import { finiteNumber, ignored, prioritySchema, stopSchema } from "../common-schema.js";

/** Completions per /infill request at most (llama.vscode asks for 3). */
export const maxInfillCompletions = 8;

const extraChunk = z.object({
  text: z.string(),
  filename: z.string().optional(),
  time: ignored,
});

export function infillRequestSchema(maxTokensLimit: number) {
  return z.object({
    /** Optional: without it, the only installed model answers. */
    model: z.string().min(1).optional(),
    input_prefix: z.string().default(""),
    input_suffix: z.string().default(""),
    input_extra: z.array(extraChunk).max(256, "at most 256 input_extra chunks").default([]),
    prompt: z.string().default(""),
    /** -1 = up to the server's limit; 0 = warm-up: evaluate the prompt, generate nothing. */
    n_predict: z
      .number()
      .int("expected an integer")
      .min(-1, "must be -1, 0 or a positive count")
      .max(maxTokensLimit, `must be at most ${maxTokensLimit} (the server's --max-tokens-limit)`)
      .optional(),
    n_cmpl: z
      .number()
      .int("expected an integer")
      .min(1)
      .max(maxInfillCompletions, `must be at most ${maxInfillCompletions}`)
      .optional(),
    stream: z.boolean().optional(),
    temperature: finiteNumber.min(0).max(2).optional(),
    top_k: z.number().int().min(0).optional(),
    top_p: finiteNumber.min(0).max(1).optional(),
    min_p: finiteNumber.min(0).max(1).optional(),
    seed: z.number().int().optional(),
    repeat_penalty: finiteNumber.min(0).max(10).optional(),
    stop: stopSchema,
    priority: prioritySchema.optional(),
    id_slot: ignored,
    cache_prompt: ignored,
    samplers: ignored,
    n_indent: ignored,
    t_max_prompt_ms: ignored,
    t_max_predict_ms: ignored,
  });
}

export type InfillBody = z.infer<ReturnType<typeof infillRequestSchema>>;
