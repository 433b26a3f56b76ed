/**
 * A streamed response's lending of its socket to the runner (ADR 0056), for the frame writer:
 * after a write has left and the socket's buffer is empty, it asks the generation's runner to
 * write the plain text frames itself; while the runner may hold the socket, the writer writes
 * nothing (no heartbeat either) and waits for the socket back before its next frame or its end.
 */
import type { ServerResponse } from "node:http";
import { Socket } from "node:net";
import { TLSSocket } from "node:tls";

/** Asks the runner to take `socket`; undefined when declined, else when it gives it back. */
export type SocketLender = (socket: Socket) => Promise<{ returned: Promise<void> } | undefined>;

export class SocketLending {
  readonly #lender: SocketLender;
  readonly #outgoing: ServerResponse;
  /** Settles when the socket is the writer's again; undefined while it is. */
  #busy: Promise<void> | undefined;

  constructor(lender: SocketLender, outgoing: ServerResponse) {
    this.#lender = lender;
    this.#outgoing = outgoing;
  }

  /** Asked for or lent: the writer must not write. */
  get isBusy(): boolean {
    return this.#busy !== undefined;
  }

  /**
   * Lends the socket when it is a plain TCP one carrying this chunked HTTP/1.1 response and
   * nothing of it waits in a buffer (`isIdle`: the writer has no frame pending either).
   */
  offer(isIdle: boolean): void {
    if (this.#busy !== undefined || !isIdle) return;
    const outgoing = this.#outgoing;
    const socket = outgoing.socket;
    if (
      !(socket instanceof Socket) ||
      socket instanceof TLSSocket ||
      outgoing.destroyed ||
      outgoing.writableEnded ||
      !outgoing.headersSent ||
      !(outgoing as ServerResponse & { chunkedEncoding?: boolean }).chunkedEncoding ||
      outgoing.writableLength !== 0
    )
      return;
    const busy: Promise<void> = this.#lender(socket).then(
      async (lend) => {
        if (lend !== undefined) await lend.returned;
        if (this.#busy === busy) this.#busy = undefined;
      },
      () => {
        if (this.#busy === busy) this.#busy = undefined;
      },
    );
    this.#busy = busy;
  }

  /** Resolves once the socket is the writer's (at once when it never left). */
  async settled(): Promise<void> {
    while (this.#busy !== undefined) await this.#busy;
  }
}
