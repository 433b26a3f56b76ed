/**
 * One finished request as the metrics see it, built from the `request-end` event on the hot
 * path (a plain object, nothing computed but two divisions), and the per-request statistics
 * that are derived from it off the hot path.
 */
import { priorities, type Priority, type ServerEvents, type WallMs } from "../../core/index.js";

export type RequestOutcome = ServerEvents["request-end"]["outcome"];

export interface RequestRecord {
  requestId: string;
  /** When the request ended, on the collector's wall clock. */
  endedAtMs: WallMs;
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
  /** Speculative decoding's drafted and accepted tokens; undefined when it was off. */
  draftedTokens?: number | undefined;
  acceptedTokens?: number | undefined;
  preemptions: number;
}

export function recordFromEvent(event: ServerEvents["request-end"], endedAtMs: WallMs): RequestRecord {
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
    ...(event.draftedTokens === undefined
      ? {}
      : { draftedTokens: event.draftedTokens, acceptedTokens: event.acceptedTokens ?? 0 }),
    preemptions: event.preemptions ?? 0,
  };
}

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

interface MetricDefinition {
  unit: "ms" | "tokens/s" | "tokens";
  /** The statistic for one request, or undefined where it does not apply. */
  valueOf(record: RequestRecord): number | undefined;
}

/** Tokens decoded after the first, when there are any and they took time (rates need both). */
function decodedAfterFirst(record: RequestRecord): { tokens: number; ms: number } | undefined {
  const tokens = record.completionTokens - 1;
  const ms = record.decodeMs;
  return ms !== undefined && tokens >= 1 && ms > 0 ? { tokens, ms } : undefined;
}

function promptRate(record: RequestRecord): number | undefined {
  const evaluatedTokens = record.promptTokens - (record.cachedTokens ?? 0);
  const ms = record.promptMs;
  return ms !== undefined && ms > 0 && evaluatedTokens > 0 ? (evaluatedTokens * 1000) / ms : undefined;
}

/**
 * The per-request statistics, keyed by name: each one's unit and value sit together, so adding
 * one is one entry, and readers look values up by name (a reorder cannot mislabel a series).
 * Queue wait applies to requests that got a sequence, load wait to those that waited on a load,
 * prompt and TTFT to those that produced a token, decode rate and inter-token latency (the
 * request's mean: decode time ÷ (completion tokens − 1), see docs/decisions/0005) to those with
 * at least two tokens, and totals to requests that were admitted (`isServed`).
 */
export const metricDefinitions = {
  queue_ms: { unit: "ms", valueOf: (record) => record.queueMs },
  load_ms: { unit: "ms", valueOf: (record) => record.loadMs },
  prompt_ms: { unit: "ms", valueOf: (record) => record.promptMs },
  prompt_tokens_per_second: { unit: "tokens/s", valueOf: promptRate },
  time_to_first_token_ms: { unit: "ms", valueOf: (record) => record.timeToFirstTokenMs },
  inter_token_latency_ms: {
    unit: "ms",
    valueOf: (record) => {
      const decoded = decodedAfterFirst(record);
      return decoded === undefined ? undefined : decoded.ms / decoded.tokens;
    },
  },
  decode_tokens_per_second: {
    unit: "tokens/s",
    valueOf: (record) => {
      const decoded = decodedAfterFirst(record);
      return decoded === undefined ? undefined : (decoded.tokens * 1000) / decoded.ms;
    },
  },
  total_ms: { unit: "ms", valueOf: (record) => (isServed(record) ? record.totalMs : undefined) },
  prompt_tokens: {
    unit: "tokens",
    valueOf: (record) => (isServed(record) ? record.promptTokens : undefined),
  },
  completion_tokens: {
    unit: "tokens",
    valueOf: (record) => (isServed(record) ? record.completionTokens : undefined),
  },
} satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof metricDefinitions;
/** The statistics' names in definition order: the order of JSON keys and CSV rows. */
export const metricNames = Object.keys(metricDefinitions) as MetricName[];
export type MetricValues = Readonly<Record<MetricName, number | undefined>>;

/** Each statistic's value for one request, by name. */
export function metricValues(record: RequestRecord): MetricValues {
  const values = {} as Record<MetricName, number | undefined>;
  for (const name of metricNames) values[name] = metricDefinitions[name].valueOf(record);
  return values;
}

export function isPriority(value: string): value is Priority {
  return (priorities as readonly string[]).includes(value);
}
