/**
 * A generation that was cancelled while its client still listens — by `DELETE /v1/requests/{id}`
 * or by a newer request of its `X-Request-Group` — ends with the `cancelled` error, not with a
 * finish reason of "stop" that a client cannot tell from a complete answer. (A client that left
 * reads nothing, so its disconnect needs no ending.)
 */
import { AppError, type StreamEvent } from "../core/index.js";
import type { GenerationEvents } from "./generation-events.js";
import { isSuperseded, supersededError } from "./request-groups.js";

export function cancelledError(signal: AbortSignal, requestId: string): AppError {
  if (isSuperseded(signal)) return supersededError();
  return new AppError(
    "cancelled",
    `Request ${requestId} was cancelled (DELETE /v1/requests/${requestId}) before it finished; the text already sent is all it produced.`,
  );
}

/**
 * Passes the events through; a cancelled end becomes the `cancelled` error (after closing
 * `events`, as a `for await` leaving early would). A plain iterator rather than an async
 * generator: one promise step per event on the streaming hot path instead of a generator's
 * await-and-yield round (ADR 0043).
 */
export function endingCancelledAsError(
  events: GenerationEvents,
  signal: AbortSignal,
  requestId: string,
): AsyncIterableIterator<StreamEvent> {
  const check = (result: IteratorResult<StreamEvent>): IteratorResult<StreamEvent> | Promise<never> => {
    const event = result.done === true ? undefined : result.value;
    if (event?.type !== "end" || event.reason !== "cancelled") return result;
    const error = cancelledError(signal, requestId);
    return events.return(undefined).then(() => Promise.reject(error));
  };
  const iterator: AsyncIterableIterator<StreamEvent> = {
    next: () => events.next().then(check),
    return: (value?: unknown) => events.return(value),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
