/** Request fields shared by both dialects. */
import { z } from "zod";
import { AppError, priorities, type Priority } from "../core/index.js";

export const prioritySchema = z.enum(priorities);

/** Body field wins over the X-Priority header; default normal. */
export function resolvePriority(bodyValue: Priority | undefined, header: string | undefined): Priority {
  if (bodyValue !== undefined) return bodyValue;
  if (header === undefined || header === "") return "normal";
  const value = header.trim().toLowerCase();
  if ((priorities as readonly string[]).includes(value)) return value as Priority;
  throw new AppError("bad-request", `Invalid X-Priority header "${header}": expected high, normal or low.`, {
    param: "priority",
  });
}

export const finiteNumber = z.number().refine(Number.isFinite, "expected a finite number");

export function maxTokensSchema(limit: number) {
  return z
    .number()
    .int("expected an integer")
    .min(1, "must be at least 1")
    .max(limit, `must be at most ${limit} (the server's --max-tokens-limit)`);
}

/** More would make every generated token a scan over them all; llama-server and OpenAI allow 4. */
export const maxStopStrings = 16;

// The cap is a refinement on the union, not inside it: a union that fails reports only "Invalid input".
export const stopSchema = z
  .union([z.string(), z.array(z.string())], "expected a string or an array of strings")
  .refine(
    (stop) => typeof stop === "string" || stop.length <= maxStopStrings,
    `at most ${maxStopStrings} stop strings`,
  )
  .optional();

/**
 * A string, or an array of `min`..`max` strings. The count is checked after the union: inside it,
 * a failing branch's own message is lost and zod reports only "Invalid input".
 */
export function stringOrStrings(options: { min: number; max: number; what: string }) {
  const { min, max, what } = options;
  return z
    .union([z.string(), z.array(z.string())], "expected a string or an array of strings")
    .refine(
      (value) => typeof value === "string" || (value.length >= min && value.length <= max),
      min === max ? `only ${min} ${what} per request is supported` : `expected ${min} to ${max} ${what}`,
    );
}

export function toStopList(stop: string | string[] | undefined | null): string[] {
  if (stop === undefined || stop === null) return [];
  return (Array.isArray(stop) ? stop : [stop]).filter((item) => item.length > 0);
}

export const jsonSchemaObject = z.record(z.string(), z.unknown());

/**
 * Request fields RawrXD cannot honour: the neutral values clients send by default pass, any
 * other value is a 400 that names the field (readJson puts the path in the message).
 */
export const notSupported = {
  /** OpenAI `logprobs` (boolean on chat, a count on legacy completions). */
  logprobs: z
    .union(
      [z.literal(false), z.literal(0)],
      "logprobs are not supported by RawrXD yet; omit it or send false",
    )
    .nullable()
    .optional(),
  topLogprobs: z
    .literal(0, "top_logprobs is not supported by RawrXD yet (it needs logprobs); omit it")
    .nullable()
    .optional(),
  logitBias: z
    .record(z.string(), z.unknown())
    .refine(
      (bias) => Object.keys(bias).length === 0,
      "logit_bias is not supported: its keys are token ids of OpenAI's tokenizer, not this model's",
    )
    .nullable()
    .optional(),
  /** The deprecated `function_call`: its neutral values pass; forcing a call needs tool_choice. */
  toolChoice: z
    .union([z.literal("auto"), z.literal("none")], "function_call is deprecated; send tools and tool_choice")
    .nullable()
    .optional(),
  nonEmpty: (field: string, reason: string) =>
    z
      .unknown()
      .refine(
        (value) =>
          value === null ||
          value === undefined ||
          value === false ||
          value === "" ||
          (Array.isArray(value) && value.length === 0),
        `${field} is not supported: ${reason}`,
      )
      .optional(),
};

/** Fields accepted and ignored, with the reason in the README's "Request parameters". */
export const ignored = z.unknown().optional();
