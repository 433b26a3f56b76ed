/**
 * The event-loop lag sampler runs while the server holds an HTTP connection (ADR 0052): with
 * none open nothing waits on the loop, and the sampler's timer would wake an idle server four
 * times a second. A request arriving opens a connection first, so it is sampled from its start.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

export interface IdleAwareSampler {
  setIdle(isIdle: boolean): void;
}

/** Marks `sampler` idle now if `server` has no connection, and whenever its last one closes. */
export function sampleWhileServing(server: Server, sampler: IdleAwareSampler): void {
  let open = 0;
  server.on("connection", (socket: Socket) => {
    open += 1;
    if (open === 1) sampler.setIdle(false);
    socket.once("close", () => {
      open -= 1;
      if (open === 0) sampler.setIdle(true);
    });
  });
  server.getConnections((error, count) => {
    if (error === null && count === 0 && open === 0) sampler.setIdle(true);
  });
}
