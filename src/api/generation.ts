/**
 * The native request path both dialects translate into: submit a GenerateRequest to the
 * scheduler and wait for its first event before any byte is sent, so early failures (unknown
 * model, queue full, prompt too long) still get a proper status and JSON error. With an audit
 * gate, the last event (or the error) reaches the client only once the request's audit record
 * is on disk: the queue's generator is run to its end first (it emits request-end there).
 */
import {
  AppError,
  type AuditGate,
  type AuditTicket,
  type FinishReason,
  type StreamEvent,
  type GenerateRequest,
  type ToolCall,
  type TokenLogprob,
  type Usage,
} from "../core/index.js";
import type { Scheduler } from "../scheduler/index.js";
import { generationEvents, type GenerationEvents } from "./generation-events.js";
import type { RequestDrain } from "./request-drain.js";

export interface StartedGeneration {
  /** Every event, the already-received first one included. */
  events: GenerationEvents;
  /**
   * Cancels the generation and releases its sequence, whether or not `events` was ever
   * iterated (a client can leave before the first frame is pulled). Idempotent.
   */
  close(): Promise<void>;
  /** The audit records this generation's text: every text-delta must pass the main process. */
  recordsContent: boolean;
}

export interface GenerationSignals {
  /** The client's request signal: a disconnect cancels the generation. */
  clientSignal: AbortSignal;
  /**
   * The server's shutdown: refuses to start while draining; at the end of --shutdown-grace it
   * cancels the generation, whose stream then ends with a shutting-down error, not a normal end.
   */
  drain?: RequestDrain | undefined;
  keepAliveMs?: number | undefined;
  /** Called once when the generation is over (or refused): ends its owner's claim on it. */
  onLeave?: (() => void) | undefined;
  /** The audit log's gate (undefined with --no-audit): records before the end, refuses when fail-closed. */
  audit?: AuditGate | undefined;
}

export async function startGeneration(
  queue: Scheduler,
  request: GenerateRequest,
  options: GenerationSignals,
): Promise<StartedGeneration> {
  let leaveDrain: () => void;
  try {
    leaveDrain = options.drain?.enter() ?? ((): void => undefined);
  } catch (error) {
    options.onLeave?.();
    throw error;
  }
  const leave = (): void => {
    leaveDrain();
    options.onLeave?.();
  };
  let ticket: AuditTicket | undefined;
  try {
    ticket = options.audit?.open(request);
  } catch (error) {
    leave();
    throw error;
  }
  const settledQuietly = async (): Promise<void> => ticket?.settled().catch(() => undefined);
  const stopSignal = options.drain?.stopSignal;
  const controller = new AbortController();
  const signals = [options.clientSignal, stopSignal].filter((signal) => signal !== undefined);
  const abort = (): void => controller.abort();
  const unlisten = (): void => {
    for (const signal of signals) signal.removeEventListener("abort", abort);
  };
  for (const signal of signals) {
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  }
  const iterator = queue.generate(request, { signal: controller.signal, keepAliveMs: options.keepAliveMs });
  let isDone = false;
  let closing: Promise<void> | undefined;
  // Cancel, then read the queue's events to their end instead of calling return(): a generator
  // closed at a `yield` never learns how it ended, and the request log would record an error
  // with no code and no tokens for what was a cancellation (the runner's own `end` event, with
  // its token counts, may still be on the way).
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unlisten();
      if (!isDone) {
        controller.abort();
        try {
          while (!(await iterator.next()).done);
        } catch {
          // A cancelled generation ends with the queue's cancelled error: nothing left to report.
        }
      }
      // The client is gone or served; the drain still waits for the record.
      await settledQuietly();
      leave();
    })();
    return closing;
  };
  const stopped = (): AppError =>
    new AppError(
      "shutting-down",
      "The server is shutting down and stopped this generation at the end of its grace period; retry.",
      { retryAfterSeconds: 5 },
    );
  try {
    const first = await iterator.next();
    const events = generationEvents({
      first,
      iterator,
      ticket,
      stopSignal,
      clientSignal: options.clientSignal,
      stopped,
      close,
      markDone: () => (isDone = true),
    });
    return { events, close, recordsContent: ticket?.recordsContent === true };
  } catch (error) {
    unlisten();
    // Refused before it started (unknown model, queue full): the error waits for its record too.
    await settledQuietly();
    leave();
    if (stopSignal?.aborted === true && !options.clientSignal.aborted) throw stopped();
    throw error;
  }
}

export interface CollectedGeneration {
  text: string;
  /** Tool calls in the order they were made (empty when the model answered in text). */
  toolCalls: ToolCall[];
  /** Per-token log-probabilities, when the request asked for them. */
  logprobs?: TokenLogprob[] | undefined;
  reason: FinishReason;
  usage: Usage;
  timings: { loadMs: number; promptMs: number; decodeMs: number };
}

/** Drains a generation for non-streaming responses. */
export async function collect(events: AsyncIterable<StreamEvent>): Promise<CollectedGeneration> {
  let text = "";
  const toolCalls: ToolCall[] = [];
  let logprobs: TokenLogprob[] | undefined;
  for await (const event of events) {
    if (event.type === "text-delta") {
      text += event.text;
      if (event.logprobs !== undefined) (logprobs ??= []).push(...event.logprobs);
    }
    if (event.type === "tool-call") toolCalls.push(event.call);
    if (event.type === "end")
      return { text, toolCalls, logprobs, reason: event.reason, usage: event.usage, timings: event.timings };
  }
  return {
    text,
    toolCalls,
    reason: "cancelled",
    usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 },
    timings: { loadMs: 0, promptMs: 0, decodeMs: 0 },
  };
}
