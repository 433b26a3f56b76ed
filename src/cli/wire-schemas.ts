/**
 * The Ollama-compatible response bodies the CLI reads, parsed at the edge. Optional fields
 * stay optional so an older or partial server still prints what it has.
 */
import { z } from "zod";
import { CliError } from "./cli-io.js";

const details = z
  .object({
    format: z.string().optional(),
    family: z.string().optional(),
    parameter_size: z.string().optional(),
    quantization_level: z.string().optional(),
  })
  .partial();

export const tagsResponse = z.object({
  models: z.array(
    z.object({
      name: z.string(),
      modified_at: z.string().optional(),
      size: z.number().optional(),
      digest: z.string().optional(),
      details: details.optional(),
      // RawrXD extension: the bundled demo model.
      demo: z.boolean().optional(),
    }),
  ),
});

export const psResponse = z.object({
  models: z.array(
    z.object({
      name: z.string(),
      size: z.number().optional(),
      size_vram: z.number().optional(),
      expires_at: z.string().optional(),
      context_length: z.number().optional(),
      details: details.optional(),
      // RawrXD extension (absent on Ollama servers).
      sequences: z.object({ total: z.number(), active: z.number(), queued: z.number() }).optional(),
    }),
  ),
});

const priorityView = z.object({
  queued: z.number(),
  running: z.number(),
  oldest_wait_ms: z.number().nullable(),
});

/** GET /v1/queue (RawrXD only). */
export const queueResponse = z.object({
  queued: z.number(),
  max_queued: z.number(),
  models: z.array(
    z.object({
      model: z.string(),
      state: z.string(),
      priorities: z.object({ high: priorityView, normal: priorityView, low: priorityView }),
    }),
  ),
});

export const showResponse = z.object({
  details: details.optional(),
  model_info: z.record(z.string(), z.unknown()).optional(),
  template: z.string().optional(),
  parameters: z.string().optional(),
  capabilities: z.array(z.string()).optional(),
});

export const generateLine = z.object({
  response: z.string().optional(),
  error: z.string().optional(),
  done: z.boolean().optional(),
  done_reason: z.string().optional(),
  total_duration: z.number().optional(),
  load_duration: z.number().optional(),
  prompt_eval_count: z.number().optional(),
  prompt_eval_duration: z.number().optional(),
  eval_count: z.number().optional(),
  eval_duration: z.number().optional(),
});

/** One NDJSON line of a streamed POST /api/chat. */
export const chatLine = generateLine.extend({
  message: z.object({ role: z.string().optional(), content: z.string().optional() }).optional(),
});

export type ShowResponse = z.infer<typeof showResponse>;
export type ChatLine = z.infer<typeof chatLine>;
export type GenerateLine = z.infer<typeof generateLine>;

/** Parses a server body; a mismatch means the server speaks another protocol version. */
/** One NDJSON line of a streamed answer, parsed and checked against its schema. */
export function parseWireLine<T>(schema: z.ZodType<T>, line: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new CliError(`Error: the server sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  return parseWire(schema, value, what);
}

export function parseWire<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where =
      issue === undefined ? "" : ` at ${issue.path.join(".") || "the top level"}: ${issue.message}`;
    throw new CliError(`The server answered ${what} with an unexpected body${where}.`);
  }
  return result.data;
}
