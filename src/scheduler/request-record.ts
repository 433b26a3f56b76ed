/**
 * What one request's request-end event reports for metrics: its outcome and token counts, and
 * its timing — queue wait, load wait, time to first token, prompt and decode time, with time
 * spent preempted kept out of decode. Readings come from the time port's monotonic clock;
 * nothing here runs per token.
 */
import {
  AppError,
  type GenerateRequest,
  type MonotonicMs,
  type ServerEvents,
  type TimePort,
} from "../core/index.js";
import { classifyFailure } from "./policies.js";

type RequestEnd = ServerEvents["request-end"];

export class RequestRecord {
  outcome: RequestEnd["outcome"] = "error";
  errorCode: string | undefined;
  promptTokens = 0;
  completionTokens = 0;
  readonly #time: TimePort;
  readonly #arrivedMs: MonotonicMs;
  /** Every wait on a load, for the end event's timings. */
  #loadMs = 0;
  /** Only when this request waited for a load it caused or joined. */
  #reportedLoadMs: number | undefined;
  #queueMs: number | undefined;
  #firstTokenMs: number | undefined;
  #promptMs: number | undefined;
  #endMs: MonotonicMs | undefined;
  #pausedAfterFirstMs = 0;
  #cachedTokens: number | undefined;
  #reevaluatedTokens: number | undefined;
  #speculation: { draftedTokens: number; acceptedTokens: number } | undefined;
  #runStartMs: MonotonicMs | undefined;
  #preemptedAtMs: MonotonicMs | undefined;

  constructor(time: TimePort) {
    this.#time = time;
    this.#arrivedMs = time.monotonicNow();
  }

  get arrivedMs(): MonotonicMs {
    return this.#arrivedMs;
  }

  get loadMs(): number {
    return this.#loadMs;
  }

  /** A sequence was granted (first run or after a preemption); returns ms since arrival. */
  sequenceGranted(loadMs: number, options: { isLoadPending: boolean }): number {
    const now = this.#time.monotonicNow();
    this.#loadMs += loadMs;
    if (options.isLoadPending) this.#reportedLoadMs = this.#loadMs;
    const sinceArrivalMs = now - this.#arrivedMs;
    const waitedMs = this.#preemptedAtMs === undefined ? sinceArrivalMs : now - this.#preemptedAtMs;
    this.#queueMs = (this.#queueMs ?? 0) + waitedMs;
    if (this.#preemptedAtMs !== undefined && this.#firstTokenMs !== undefined)
      this.#pausedAfterFirstMs += waitedMs;
    this.#runStartMs = now;
    return sinceArrivalMs;
  }

  /** A token arrived; returns ms since arrival when it is the request's first, else undefined. */
  tokenArrived(): number | undefined {
    if (this.#firstTokenMs !== undefined) return undefined;
    const now = this.#time.monotonicNow();
    this.#firstTokenMs = now - this.#arrivedMs;
    this.#promptMs = now - (this.#runStartMs ?? this.#arrivedMs);
    return this.#firstTokenMs;
  }

  ended(event: {
    reason: RequestEnd["outcome"];
    usage: {
      promptTokens: number;
      completionTokens: number;
      cachedTokens: number;
      reevaluatedTokens?: number | undefined;
      draftedTokens?: number | undefined;
      acceptedTokens?: number | undefined;
    };
  }): void {
    this.#endMs = this.#time.monotonicNow();
    this.outcome = event.reason;
    this.promptTokens = event.usage.promptTokens;
    this.completionTokens = event.usage.completionTokens;
    this.#cachedTokens = event.usage.cachedTokens;
    this.#reevaluatedTokens = event.usage.reevaluatedTokens;
    const { draftedTokens, acceptedTokens } = event.usage;
    this.#speculation =
      draftedTokens === undefined ? undefined : { draftedTokens, acceptedTokens: acceptedTokens ?? 0 };
  }

  failed(error: unknown, options: { isAborted: boolean }): void {
    this.errorCode = error instanceof AppError ? error.code : "internal";
    this.outcome = classifyFailure(this.errorCode, options.isAborted);
  }

  /** The current run left its sequence; returns how long it held it (the service time). */
  runEnded(): number {
    return this.#time.monotonicNow() - (this.#runStartMs ?? this.#arrivedMs);
  }

  preempted(): void {
    this.#preemptedAtMs = this.#time.monotonicNow();
  }

  /** The request-end payload; timing fields are undefined where the request never got that far. */
  endEvent(request: Pick<RequestEnd, "requestId" | "model" | "priority" | "preemptions">): RequestEnd {
    const now = this.#time.monotonicNow();
    const endMs = this.#endMs ?? now;
    return {
      requestId: request.requestId,
      model: request.model,
      outcome: this.outcome,
      ...(this.errorCode === undefined ? {} : { errorCode: this.errorCode }),
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      totalMs: now - this.#arrivedMs,
      cachedTokens: this.#cachedTokens,
      ...(this.#reevaluatedTokens === undefined ? {} : { reevaluatedTokens: this.#reevaluatedTokens }),
      ...this.#speculation,
      queueMs: this.#queueMs,
      loadMs: this.#reportedLoadMs,
      timeToFirstTokenMs: this.#firstTokenMs,
      promptMs: this.#promptMs,
      decodeMs:
        this.#firstTokenMs === undefined
          ? undefined
          : Math.max(0, endMs - this.#arrivedMs - this.#firstTokenMs - this.#pausedAfterFirstMs),
      priority: request.priority,
      preemptions: request.preemptions,
    };
  }
}

/** Who sent the request, as request-end carries it: only the fields that are known. */
export function originOf(
  request: GenerateRequest,
): Pick<RequestEnd, "apiKeyId" | "sourceAddress" | "priorityAsked"> {
  return {
    ...(request.apiKeyId === undefined ? {} : { apiKeyId: request.apiKeyId }),
    ...(request.sourceAddress === undefined ? {} : { sourceAddress: request.sourceAddress }),
    ...(request.priorityAsked === undefined ? {} : { priorityAsked: request.priorityAsked }),
  };
}
