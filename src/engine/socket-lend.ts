/**
 * The main process's side of lending a client's socket to a runner for one generation (ADR
 * 0056): counts the generation's events, asks the runner, and tells the frame writer when the
 * socket is its own again. The runner takes the socket only when it has sent exactly the events
 * counted here, so nothing it sent earlier can still be on its way to the writer.
 */
import type { Socket } from "node:net";
import type { StreamLend } from "./contract.js";

export class SocketLend {
  /** Events of this generation received from the runner. */
  received = 0;
  #answer: ((lend: StreamLend | undefined) => void) | undefined;
  #socket: Socket | undefined;
  #giveBack: (() => void) | undefined;
  /** The runner said a chunk is partly written (lend-partial). */
  #isPartial = false;

  /** A lend is asked for or held. */
  get isBusy(): boolean {
    return this.#answer !== undefined || this.#giveBack !== undefined;
  }

  /** Asks with `send(afterEvents)` (false: it could not be sent); resolves with the runner's answer. */
  ask(socket: Socket, send: (afterEvents: number) => boolean): Promise<StreamLend | undefined> {
    if (this.isBusy) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#answer = resolve;
      this.#socket = socket;
      if (!send(this.received)) this.answered(false);
    });
  }

  /** The runner's `lend-answer`. */
  answered(isAccepted: boolean): void {
    const answer = this.#answer;
    this.#answer = undefined;
    if (!isAccepted) {
      this.#socket = undefined;
      answer?.(undefined);
      return;
    }
    const returned = new Promise<void>((resolve) => (this.#giveBack = resolve));
    answer?.({ returned });
  }

  /** The runner's `lend-partial`. */
  partial(isPartial: boolean): void {
    this.#isPartial = isPartial;
  }

  /** An event of the generation arrived: the runner let the socket go before sending it. */
  eventArrived(): void {
    this.received += 1;
    this.#return();
  }

  /**
   * The generation is over without a last event (the runner failed or exited). The socket comes
   * back and the error event is written after the runner's last whole chunk (issue #15), unless
   * the runner died while it had said a chunk was partly written: then the connection is
   * destroyed, so that nothing is written after a torn chunk.
   */
  ended(hasRunnerDied: boolean): void {
    if (hasRunnerDied && this.#giveBack !== undefined && this.#isPartial) this.#socket?.destroy();
    this.answered(false);
    this.#return();
  }

  #return(): void {
    this.#isPartial = false;
    const giveBack = this.#giveBack;
    this.#giveBack = undefined;
    this.#socket = undefined;
    giveBack?.();
  }
}
