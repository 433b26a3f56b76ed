/**
 * The events of a started generation as a plain iterator (ADR 0048): an async generator here
 * cost an await and a yield round per runner message on the streaming hot path; a text event
 * now passes in one `.then`. Same contract as the generator it replaces: the already-received
 * first event first; after the `end` event the queue's generator is run past its end
 * (request-end) and the audit record waited for before `end` is handed out; any error waits
 * for the record too; the generation is closed once the events end, fail or are returned, but
 * not when `return()` comes before the first `next()`.
 */
import type { AuditTicket, StreamEvent } from "../core/index.js";

/** What `startGeneration` hands out: iterable once, `return()` always there. */
export interface GenerationEvents extends AsyncIterableIterator<StreamEvent> {
  return(value?: unknown): Promise<IteratorResult<StreamEvent>>;
}

export interface GenerationEventsOptions {
  first: IteratorResult<StreamEvent>;
  iterator: AsyncIterator<StreamEvent>;
  ticket: AuditTicket | undefined;
  /** The shutdown's stop: a cancelled end then reads as `stopped()`. */
  stopSignal: AbortSignal | undefined;
  clientSignal: AbortSignal;
  stopped: () => Error;
  /** The generation's close (idempotent). */
  close: () => Promise<void>;
  /** Tells the close that the queue's generator has ended (nothing left to drain). */
  markDone: () => void;
}

const finished: IteratorResult<StreamEvent> = { value: undefined, done: true };

export function generationEvents(options: GenerationEventsOptions): GenerationEvents {
  const { iterator, ticket, stopSignal, close } = options;
  const recordsContent = ticket?.recordsContent === true;
  let state: "fresh" | "open" | "done" = "fresh";
  /** A result already read: the first event, or what followed the `end` event. */
  let held: IteratorResult<StreamEvent> | undefined = options.first;

  const fail = async (error: unknown): Promise<never> => {
    state = "done";
    await ticket?.settled().catch(() => undefined);
    const thrown = stopSignal?.aborted === true && !options.clientSignal.aborted ? options.stopped() : error;
    await close();
    throw thrown;
  };
  const onEnd = async (event: StreamEvent): Promise<IteratorResult<StreamEvent>> => {
    // Run the queue's generator past its end (request-end), then wait for the record.
    held = await iterator.next();
    if (held.done === true) options.markDone();
    await ticket?.settled();
    return { value: event, done: false };
  };
  const onResult = (
    result: IteratorResult<StreamEvent>,
  ): IteratorResult<StreamEvent> | Promise<IteratorResult<StreamEvent>> => {
    if (result.done === true) {
      state = "done";
      options.markDone();
      return close().then(() => finished);
    }
    const event = result.value;
    if (stopSignal?.aborted === true && event.type === "end" && event.reason === "cancelled")
      return fail(options.stopped());
    if (event.type === "end") return onEnd(event).catch(fail);
    if (recordsContent && event.type === "text-delta") ticket?.output(event.text);
    if (recordsContent && event.type === "tool-call") {
      ticket?.output(
        JSON.stringify({ tool_call: { name: event.call.name, arguments: event.call.arguments } }),
      );
    }
    return result;
  };
  const onResultOrFail = (
    result: IteratorResult<StreamEvent>,
  ): IteratorResult<StreamEvent> | Promise<IteratorResult<StreamEvent>> => {
    try {
      return onResult(result);
    } catch (error) {
      return fail(error);
    }
  };
  const events: GenerationEvents = {
    next: () => {
      if (state === "done") return Promise.resolve(finished);
      state = "open";
      const result = held;
      held = undefined;
      if (result !== undefined) return Promise.resolve(onResultOrFail(result));
      return iterator.next().then(onResultOrFail, fail);
    },
    return: async (value?: unknown) => {
      const wasOpen = state === "open";
      state = "done";
      if (wasOpen) await close();
      return { value: value as StreamEvent, done: true };
    },
    [Symbol.asyncIterator]: () => events,
  };
  return events;
}
