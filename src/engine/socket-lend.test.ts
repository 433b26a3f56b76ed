import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { SocketLend } from "./socket-lend.js";

function lentSocket(): { socket: Socket; isDestroyed: () => boolean } {
  let isDestroyed = false;
  const socket = { destroy: () => (isDestroyed = true) } as unknown as Socket;
  return { socket, isDestroyed: () => isDestroyed };
}

/** Lends `socket`; `returned` settles when the socket is the main process's again. */
async function lend(state: SocketLend, socket: Socket): Promise<{ returned: Promise<void> }> {
  const answer = state.ask(socket, () => true);
  state.answered(true);
  const lent = await answer;
  expect(lent).toBeDefined();
  return { returned: lent!.returned };
}

describe("SocketLend", () => {
  it("gives the socket back when the runner dies with every chunk whole: the error event can follow", async () => {
    const state = new SocketLend();
    const { socket, isDestroyed } = lentSocket();
    const { returned } = await lend(state, socket);
    state.partial(true);
    state.partial(false);
    state.ended(true);
    await returned;
    expect(isDestroyed()).toBe(false);
  });

  it("destroys the connection when the runner dies while a chunk is partly written", async () => {
    const state = new SocketLend();
    const { socket, isDestroyed } = lentSocket();
    const { returned } = await lend(state, socket);
    state.partial(true);
    state.ended(true);
    await returned;
    expect(isDestroyed()).toBe(true);
  });

  it("forgets a partial chunk once the runner let the socket go", async () => {
    const state = new SocketLend();
    const first = lentSocket();
    const { returned } = await lend(state, first.socket);
    state.partial(true);
    state.eventArrived();
    await returned;
    const second = lentSocket();
    const { returned: again } = await lend(state, second.socket);
    state.ended(true);
    await again;
    expect(first.isDestroyed()).toBe(false);
    expect(second.isDestroyed()).toBe(false);
  });
});
