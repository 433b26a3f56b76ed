/**
 * The runner's side of a lent client socket (ADR 0056): whether to take it, and how a
 * generation's events go while it holds it. It takes the socket only when it has sent the main
 * process exactly the events the main process counted (nothing of this generation is on its
 * way) and the generation still runs; text-deltas still waiting for the coalescing window go to
 * the socket instead. While it holds the socket, plain text-deltas are written there; the first
 * other event (the end, an error, a preemption, a delta with logprobs) waits until those frames
 * reached the kernel and the socket is let go, then goes over IPC like every later event.
 */
import { Socket } from "node:net";
import type { GenerateEvent, TimePort } from "../../core/index.js";
import type { MainToRunner, RunnerEvent, RunnerToMain } from "../protocol.js";
import type { CreditGate } from "./credit-gate.js";
import { LentWriter, type LentSocket, type LentWindow } from "./lent-writer.js";
import type { SendUrgency } from "./send-urgency.js";
import type { StreamCoalescer } from "./stream-coalescer.js";

type TextDelta = Extract<GenerateEvent, { type: "text-delta" }>;

/** A running generation's lending state (part of entry.ts's Running). */
export interface Lending {
  /** Events of this generation sent over IPC (items of `events` messages). */
  sent: number;
  lent: LentWriter | undefined;
  /** Settles once a lend ended: the socket is let go and events go over IPC again. */
  releasing: Promise<void> | undefined;
}

interface LendingRun extends Lending {
  controller: AbortController;
  gate: CreditGate;
  urgency: SendUrgency;
}

function isPlainText(event: GenerateEvent): event is TextDelta {
  return event.type === "text-delta" && event.logprobs === undefined;
}

/** `send` wrapped: plain text to the lent socket while there is one, anything else in order after it. */
export function emitLending(
  run: Lending,
  send: (event: GenerateEvent) => void,
): (event: GenerateEvent) => void {
  const emit = (event: GenerateEvent): void => {
    if (run.releasing !== undefined) {
      void run.releasing.then(() => emit(event));
      return;
    }
    const lent = run.lent;
    if (lent === undefined) send(event);
    else if (isPlainText(event)) lent.push(event);
    else void releaseLend(run).then(() => emit(event));
  };
  return emit;
}

/** Ends the lend, if any: resolves once the socket is let go. */
export function releaseLend(run: Lending): Promise<void> {
  const lent = run.lent;
  if (lent === undefined) return run.releasing ?? Promise.resolve();
  run.lent = undefined;
  const releasing: Promise<void> = lent.release().then(() => {
    if (run.releasing === releasing) run.releasing = undefined;
  });
  run.releasing = releasing;
  return releasing;
}

/**
 * A socket for the lent descriptor that never reads: the main process reads the connection
 * (the next request, the client's FIN). Undefined when the message came without one.
 */
export function lentSocket(handle: unknown): Socket | undefined {
  if (typeof handle !== "object" || handle === null) return undefined;
  const socket = new Socket({ handle, readable: false, writable: true } as ConstructorParameters<
    typeof Socket
  >[0]);
  return socket;
}

export interface LendOptions {
  message: Extract<MainToRunner, { type: "lend" }>;
  /** The lent descriptor's socket (lentSocket); undefined when the message came without one. */
  socket: LentSocket | undefined;
  run: LendingRun | undefined;
  events: StreamCoalescer<RunnerEvent>;
  time: TimePort;
  /** The runner's one window for all its lent sockets. */
  window: LentWindow;
  send: (message: RunnerToMain) => void;
}

export function answerLend(options: LendOptions): void {
  const { message, run, events } = options;
  const socket = options.socket;
  // A client gone before the answer: the cancel follows; this copy just closes.
  socket?.on("error", () => undefined);
  const isAccepted =
    socket !== undefined &&
    run !== undefined &&
    run.lent === undefined &&
    run.releasing === undefined &&
    !run.controller.signal.aborted &&
    run.sent === message.afterEvents &&
    events.pendingOf(message.id).every((item) => isPlainText(item.event));
  if (!isAccepted) {
    socket?.destroy();
    options.send({ type: "lend-answer", id: message.id, isAccepted: false });
    return;
  }
  const lent = new LentWriter({
    socket,
    template: message.template,
    time: options.time,
    window: options.window,
    grant: (credits) => run.gate.grant(credits),
    onFailed: () => run.controller.abort(),
    onPartial: (isPartial) => options.send({ type: "lend-partial", id: message.id, isPartial }),
  });
  run.lent = lent;
  // What waits for the window was never sent: it leaves on the socket (its credits come back there).
  const waiting = events.take(message.id);
  run.urgency.markSent();
  options.send({ type: "lend-answer", id: message.id, isAccepted: true });
  for (const item of waiting) lent.push(item.event as TextDelta);
}
