/**
 * One finished request as the metrics see it, built from the `request-end` event on the hot
 * path (a plain object, nothing computed but two divisions), and the per-request statistics
 * that are derived from it off the hot path.
 */
import { priorities, type Priority, type ServerEvents } from "../../core/index.js";

export type RequestOutcome = ServerEvents["request-end"]["outcome"];

export interface RequestRecord {
  requestId: string;
  /** Unix ms when the request ended (the collector's clock). */
  endedAtMs: number;
  model: string;
  priority: Priority;
  outcome: RequestOutcome;
  errorCode: string | undefined;
  apiKeyId: string | undefined;
  queueMs: number | undefined;
  loadMs: number | undefined;
  promptMs: number | undefined;
  timeToFirstTokenMs: number | undefined;
  decodeMs: number | undefined;
  totalMs: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number | undefined;
  preemptions: number;
}

export function recordFromEvent(event: ServerEvents["request-end"], endedAtMs: number): RequestRecord {
  return {
    requestId: event.requestId,
    endedAtMs,
    model: event.model,
    priority: event.priority ?? "normal",
    outcome: event.outcome,
    errorCode: event.errorCode,
    apiKeyId: event.apiKeyId,
    queueMs: event.queueMs,
    loadMs: event.loadMs,
    promptMs: event.promptMs,
    timeToFirstTokenMs: event.timeToFirstTokenMs,
    decodeMs: event.decodeMs,
    totalMs: event.totalMs,
    promptTokens: event.promptTokens,
    completionTokens: event.completionTokens,
    cachedTokens: event.cachedTokens,
    preemptions: event.preemptions ?? 0,
  };
}

/** The per-request statistics, in the order of `metricNames`. */
export const metricNames = [
  "queue_ms",
  "load_ms",
  "prompt_ms",
  "prompt_tokens_per_second",
  "time_to_first_token_ms",
  "inter_token_latency_ms",
  "decode_tokens_per_second",
  "total_ms",
  "prompt_tokens",
  "completion_tokens",
] as const;
export type MetricName = (typeof metricNames)[number];

export const metricUnits: Record<MetricName, string> = {
  queue_ms: "ms",
  load_ms: "ms",
  prompt_ms: "ms",
  prompt_tokens_per_second: "tokens/s",
  time_to_first_token_ms: "ms",
  inter_token_latency_ms: "ms",
  decode_tokens_per_second: "tokens/s",
  total_ms: "ms",
  prompt_tokens: "tokens",
  completion_tokens: "tokens",
};

/** Errors raised before a request is admitted: such requests are counted, not timed. */
const refusedCodes: ReadonlySet<string> = new Set([
  "model-not-found",
  "bad-request",
  "shutting-down",
  "insufficient-memory",
  "queue-full",
]);

/** Whether a request counts in latency and size statistics: it was admitted to the queue. */
export function isServed(record: RequestRecord): boolean {
  if (record.outcome === "rejected") return false;
  return !(
    record.outcome === "error" &&
    record.queueMs === undefined &&
    record.errorCode !== undefined &&
    refusedCodes.has(record.errorCode)
  );
}

/**
 * Each statistic's value for one request, or undefined where it does not apply: queue wait for
 * requests that got a sequence, load wait for those that waited on a load, prompt and TTFT for
 * those that produced a token, decode rate and inter-token latency (the request's mean: decode
 * time ÷ (completion tokens − 1), see docs/decisions/0005) for those with at least two tokens.
 */
export function metricValues(record: RequestRecord): (number | undefined)[] {
  const served = isServed(record);
  const decodedTokens = record.completionTokens - 1;
  const hasDecode = record.decodeMs !== undefined && decodedTokens >= 1 && record.decodeMs > 0;
  const evaluatedTokens = record.promptTokens - (record.cachedTokens ?? 0);
  return [
    record.queueMs,
    record.loadMs,
    record.promptMs,
    record.promptMs !== undefined && record.promptMs > 0 && evaluatedTokens > 0
      ? (evaluatedTokens * 1000) / record.promptMs
      : undefined,
    record.timeToFirstTokenMs,
    hasDecode ? record.decodeMs! / decodedTokens : undefined,
    hasDecode ? (decodedTokens * 1000) / record.decodeMs! : undefined,
    served ? record.totalMs : undefined,
    served ? record.promptTokens : undefined,
    served ? record.completionTokens : undefined,
  ];
}

export function isPriority(value: string): value is Priority {
  return (priorities as readonly string[]).includes(value);
}
