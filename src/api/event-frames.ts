/**
 * The per-event step of a streamed response (ADR 0048): one plain iterator turns a generation's
 * events into text frames through a route's format, and turns a cancelled end into the
 * `cancelled` error (as `endingCancelledAsError` does for collected answers). It replaces an
 * async generator per route (`for await` over the events, `yield` per frame) stacked on the
 * cancelled-end iterator: one promise step per runner message between the generation and the
 * frame writer instead of three.
 */
import type { StreamEvent, TextFrameTemplate } from "../core/index.js";
import { cancelledError } from "./cancelled-ending.js";
import type { GenerationEvents } from "./generation-events.js";

export interface EventFormat {
  /** Frames that open the stream before any event (the chat role chunk); "" for none. */
  opening: string;
  /** One event's frames, joined; "" when it has none. May throw: the stream then ends with `error`. */
  frames(event: StreamEvent): string;
  /** The one frame for an error that ends the stream (the status is sent by then). */
  error(error: unknown): string;
  /**
   * The frame of one piece of a plain text-delta (no logprobs), as a template a runner can fill
   * (ADR 0056); absent: the stream's socket is never lent.
   */
  textFrame?: TextFrameTemplate | undefined;
}

export interface CancelledEnding {
  signal: AbortSignal;
  requestId: string;
}

const finished: IteratorResult<string> = { value: undefined, done: true };

/**
 * The frames of `events` in `format`. After an error (the generation's, or a cancelled end's)
 * one error frame, then the end. `return()` closes `events`.
 */
export function formatEvents(
  events: GenerationEvents,
  format: EventFormat,
  /** Without it a cancelled end is formatted like any end (llama.cpp's /infill does so). */
  ending: CancelledEnding | undefined,
): AsyncIterator<string> {
  let isOpening = format.opening.length > 0;
  let isDone = false;
  const fail = (error: unknown): IteratorResult<string> => {
    isDone = true;
    return { value: format.error(error), done: false };
  };
  /** Closes `events` first, as a `for await` left by a throw would. */
  const closeAndFail = (error: unknown): Promise<IteratorResult<string>> =>
    events.return(undefined).then(
      () => fail(error),
      (closeError: unknown) => fail(closeError),
    );
  const onResult = (
    result: IteratorResult<StreamEvent>,
  ): IteratorResult<string> | Promise<IteratorResult<string>> => {
    if (isDone) return finished;
    if (result.done === true) {
      isDone = true;
      return finished;
    }
    const event = result.value;
    if (ending !== undefined && event.type === "end" && event.reason === "cancelled")
      return closeAndFail(cancelledError(ending.signal, ending.requestId));
    let text: string;
    try {
      text = format.frames(event);
    } catch (error) {
      return closeAndFail(error);
    }
    return text.length > 0 ? { value: text, done: false } : pull();
  };
  const pull = (): Promise<IteratorResult<string>> =>
    events.next().then(onResult, (error: unknown) => (isDone ? finished : fail(error)));
  return {
    next: () => {
      if (isDone) return Promise.resolve(finished);
      if (!isOpening) return pull();
      isOpening = false;
      return Promise.resolve({ value: format.opening, done: false });
    },
    return: (value?: unknown) => {
      isDone = true;
      return events.return(undefined).then(() => ({ value: value as string, done: true }));
    },
  };
}
