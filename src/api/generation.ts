/**
 * The native request path both dialects translate into: submit a GenerateRequest to the
 * scheduler and wait for its first event before any byte is sent, so early failures (unknown
 * model, queue full, prompt too long) still get a proper status and JSON error.
 */
import type { StreamEvent, GenerateRequest, Usage } from "../core/index.js";
import type { Scheduler } from "../scheduler/index.js";

export interface StartedGeneration {
  /** Every event, the already-received first one included. */
  events: AsyncGenerator<StreamEvent>;
  /**
   * Cancels the generation and releases its sequence, whether or not `events` was ever
   * iterated (a client can leave before the first frame is pulled). Idempotent.
   */
  close(): Promise<void>;
}

export async function startGeneration(
  queue: Scheduler,
  request: GenerateRequest,
  options: { clientSignal: AbortSignal; keepAliveMs?: number | undefined },
): Promise<StartedGeneration> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (options.clientSignal.aborted) abort();
  options.clientSignal.addEventListener("abort", abort, { once: true });
  const iterator = queue.generate(request, { signal: controller.signal, keepAliveMs: options.keepAliveMs });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      options.clientSignal.removeEventListener("abort", abort);
      controller.abort();
      await iterator.return(undefined);
    })();
    return closing;
  };
  try {
    const first = await iterator.next();
    async function* all(): AsyncGenerator<StreamEvent> {
      try {
        if (!first.done) yield first.value;
        yield* iterator;
      } finally {
        options.clientSignal.removeEventListener("abort", abort);
        await iterator.return(undefined);
      }
    }
    return { events: all(), close };
  } catch (error) {
    options.clientSignal.removeEventListener("abort", abort);
    throw error;
  }
}

export interface CollectedGeneration {
  text: string;
  reason: "stop" | "length" | "cancelled";
  usage: Usage;
  timings: { loadMs: number; promptMs: number; decodeMs: number };
}

/** Drains a generation for non-streaming responses. */
export async function collect(events: AsyncIterable<StreamEvent>): Promise<CollectedGeneration> {
  let text = "";
  for await (const event of events) {
    if (event.type === "text-delta") text += event.text;
    if (event.type === "end")
      return { text, reason: event.reason, usage: event.usage, timings: event.timings };
  }
  return {
    text,
    reason: "cancelled",
    usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 },
    timings: { loadMs: 0, promptMs: 0, decodeMs: 0 },
  };
}
