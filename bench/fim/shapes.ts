/**
 * The three FIM request shapes bench:fim times, each streamed: `ms` is the time to the first
 * streamed frame (the first token, or the end when the model stops at once); the rest comes from
 * the shape's final frame. /v1/completions reports no prompt time, /api/generate no cached count.
 */
import type { TimePort } from "../../src/core/index.js";

export interface FimSample {
  ms: number;
  /** The server's prompt evaluation time; undefined where the shape does not report it. */
  promptMs: number | undefined;
  /** Prompt tokens evaluated (not reused from the sequence's cache). */
  evaluated: number;
  cached: number | undefined;
  /** One token's decode time, where the shape reports it (/infill's predicted_per_token_ms). */
  decodeMsPerToken?: number | undefined;
}

export interface FimShape {
  name: string;
  send(prefix: string, suffix: string, nPredict: number): Promise<FimSample>;
}

interface Target {
  url: string;
  model: string;
  time: TimePort;
}

interface InfillFrame {
  tokens_evaluated: number;
  tokens_cached: number;
  timings: { prompt_ms: number; predicted_per_token_ms: number };
  error?: unknown;
}

interface CompletionFrame {
  usage?: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
  error?: unknown;
}

interface GenerateLine {
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  done?: boolean;
  error?: unknown;
}

export function fimShapes(target: Target): FimShape[] {
  return [
    {
      name: "POST /infill",
      async send(prefix, suffix, nPredict) {
        const { ms, text } = await streamed(target, "/infill", {
          model: target.model,
          input_prefix: prefix,
          input_suffix: suffix,
          n_predict: nPredict,
          temperature: 0,
          stream: true,
        });
        const last = sseFrames<InfillFrame>(text).at(-1)!;
        return {
          ms,
          promptMs: last.timings.prompt_ms,
          evaluated: last.tokens_evaluated - last.tokens_cached,
          cached: last.tokens_cached,
          decodeMsPerToken: last.timings.predicted_per_token_ms,
        };
      },
    },
    {
      name: "POST /v1/completions + suffix",
      async send(prefix, suffix, nPredict) {
        const { ms, text } = await streamed(target, "/v1/completions", {
          model: target.model,
          prompt: prefix,
          suffix,
          max_tokens: nPredict,
          temperature: 0,
          stream: true,
          stream_options: { include_usage: true },
        });
        const usage = sseFrames<CompletionFrame>(text).find((frame) => frame.usage != null)?.usage;
        if (usage == null) throw new Error("/v1/completions sent no usage frame");
        const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
        return { ms, promptMs: undefined, evaluated: usage.prompt_tokens - cached, cached };
      },
    },
    {
      name: "POST /api/generate + suffix",
      async send(prefix, suffix, nPredict) {
        const { ms, text } = await streamed(target, "/api/generate", {
          model: target.model,
          prompt: prefix,
          suffix,
          stream: true,
          options: { num_predict: nPredict, temperature: 0 },
        });
        const lines = text
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map((line) => JSON.parse(line) as GenerateLine);
        const failed = lines.find((line) => line.error !== undefined);
        if (failed !== undefined) throw new Error(`/api/generate failed: ${JSON.stringify(failed.error)}`);
        const last = lines.at(-1)!;
        return {
          ms,
          promptMs: (last.prompt_eval_duration ?? Number.NaN) / 1e6,
          evaluated: last.prompt_eval_count ?? Number.NaN,
          cached: undefined,
        };
      },
    },
  ];
}

async function streamed(
  target: Target,
  path: string,
  body: Record<string, unknown>,
): Promise<{ ms: number; text: string }> {
  const sentAt = target.time.monotonicNow();
  const response = await fetch(`${target.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 200)
    throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  let firstMs: number | undefined;
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of response.body!) {
    firstMs ??= target.time.monotonicNow() - sentAt;
    text += decoder.decode(chunk as Uint8Array, { stream: true });
  }
  return { ms: firstMs ?? Number.NaN, text };
}

function sseFrames<T extends { error?: unknown }>(text: string): T[] {
  const frames = text
    .split("\n\n")
    .map((frame) => frame.trim())
    .filter((frame) => frame.startsWith("data: ") && frame !== "data: [DONE]")
    .map((frame) => JSON.parse(frame.slice("data: ".length)) as T);
  const failed = frames.find((frame) => frame.error !== undefined);
  if (failed !== undefined) throw new Error(`stream failed: ${JSON.stringify(failed.error)}`);
  return frames;
}
