/**
 * Whether a streamed response may lend its socket to the runner (ADR 0056), and the lender
 * when it may: the setting is on, the scheduler's runner can take sockets, the route has a text
 * frame template, and no text needs the main process (the audit recording content, logprobs,
 * tool calls). The socket itself is checked when it is offered (socket-lending.ts).
 */
import type { GenerateRequest } from "../core/index.js";
import type { ApiDeps } from "./deps.js";
import type { EventFormat } from "./event-frames.js";
import type { StartedGeneration } from "./generation.js";
import type { SocketLender } from "./socket-lending.js";

export function socketLenderFor(
  deps: ApiDeps,
  stream: { request: GenerateRequest; started: StartedGeneration; format: EventFormat },
): SocketLender | undefined {
  const { request, started, format } = stream;
  const queue = deps.queue;
  const template = format.textFrame;
  if (
    !deps.config.streamSocketLending ||
    queue.lendStream === undefined ||
    template === undefined ||
    template.slots.filter((slot) => slot === "text").length !== 1 ||
    started.recordsContent ||
    request.logprobs !== undefined ||
    request.tools !== undefined
  )
    return undefined;
  const id = request.id;
  return (socket) => queue.lendStream!(id, socket, template);
}
