/**
 * A generation that was cancelled while its client still listens — by `DELETE /v1/requests/{id}`
 * or by a newer request of its `X-Request-Group` — ends with the `cancelled` error, not with a
 * finish reason of "stop" that a client cannot tell from a complete answer. (A client that left
 * reads nothing, so its disconnect needs no ending.)
 */
import { AppError, type StreamEvent } from "../core/index.js";
import { isSuperseded, supersededError } from "./request-groups.js";

export function cancelledError(signal: AbortSignal, requestId: string): AppError {
  if (isSuperseded(signal)) return supersededError();
  return new AppError(
    "cancelled",
    `Request ${requestId} was cancelled (DELETE /v1/requests/${requestId}) before it finished; the text already sent is all it produced.`,
  );
}

/** Passes the events through; a cancelled end becomes the `cancelled` error. */
export async function* endingCancelledAsError(
  events: AsyncGenerator<StreamEvent>,
  signal: AbortSignal,
  requestId: string,
): AsyncGenerator<StreamEvent> {
  for await (const event of events) {
    if (event.type === "end" && event.reason === "cancelled") throw cancelledError(signal, requestId);
    yield event;
  }
}
