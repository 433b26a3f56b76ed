import { describe, expect, it } from "vitest";
import { FakeTime, textFrameTemplate, type GenerateEvent } from "../../core/index.js";
import type { RunnerEvent } from "../protocol.js";
import { CreditGate } from "./credit-gate.js";
import { mergeTextDeltas, runnerEventKey } from "./delta-merge.js";
import { answerLend, emitLending, type Lending } from "./lend-answer.js";
import { LentWindow, LentWriter, type LentSocket } from "./lent-writer.js";
import { SendUrgency } from "./send-urgency.js";
import { StreamCoalescer } from "./stream-coalescer.js";

type TextDelta = Extract<GenerateEvent, { type: "text-delta" }>;

/** A socket that records writes; `isFull` makes write() report a full buffer until `drain()`. */
class FakeSocket implements LentSocket {
  writes: string[] = [];
  callbacks: ((error?: Error | null) => void)[] = [];
  isFull = false;
  /** Set to make the kernel take only part of the next writes. */
  isPartial = false;
  isDestroyed = false;
  #onDrain: (() => void) | undefined;
  #onError: ((error: Error) => void) | undefined;

  write(data: string, callback: (error?: Error | null) => void): boolean {
    this.writes.push(data);
    this.callbacks.push(callback);
    return !this.isFull;
  }
  get writableLength(): number {
    return this.isPartial ? this.callbacks.length : 0;
  }
  once(_event: "drain", listener: () => void): void {
    this.#onDrain = listener;
  }
  on(_event: "error", listener: (error: Error) => void): void {
    this.#onError = listener;
  }
  destroy(): void {
    this.isDestroyed = true;
  }
  /** Completes every write handed over so far. */
  complete(error?: Error): void {
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback(error);
  }
  drain(): void {
    this.isFull = false;
    this.#onDrain?.();
  }
  fail(error: Error): void {
    this.#onError?.(error);
  }
}

const template = textFrameTemplate(`data: {"text":"\\u0000","at":"\\u0001"}\n\n`);
const delta = (text: string): TextDelta => ({ type: "text-delta", text, tokenCount: 1, tokenIds: [1] });
const frame = (text: string, at: string): string => `data: {"text":${JSON.stringify(text)},"at":"${at}"}\n\n`;
const chunk = (body: string): string => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`;

function writer(windowMs = 50) {
  const time = new FakeTime();
  time.setWall(Date.UTC(2026, 0, 1));
  const socket = new FakeSocket();
  const gate = new CreditGate(4);
  const failures: Error[] = [];
  const partials: boolean[] = [];
  const lent = new LentWriter({
    socket,
    template,
    time,
    window: new LentWindow({ windowMs, time }),
    grant: (credits) => gate.grant(credits),
    onFailed: (error) => failures.push(error),
    onPartial: (isPartial) => partials.push(isPartial),
  });
  return { time, socket, gate, failures, partials, lent };
}

describe("LentWriter", () => {
  it("writes every lent stream of the runner in one window: one timer, not one per stream", () => {
    const time = new FakeTime();
    time.setWall(Date.UTC(2026, 0, 1));
    const window = new LentWindow({ windowMs: 50, time });
    const sockets = [new FakeSocket(), new FakeSocket()];
    const writers = sockets.map(
      (socket) =>
        new LentWriter({
          socket,
          template,
          time,
          window,
          grant: () => undefined,
          onFailed: () => undefined,
        }),
    );
    const at = new Date(time.wallNow()).toISOString();
    writers[0]!.push(delta("a"));
    expect(sockets[0]!.writes).toEqual([chunk(frame("a", at))]);
    time.advance(10);
    writers[1]!.push(delta("b"));
    time.advance(10);
    writers[0]!.push(delta("c"));
    writers[1]!.push(delta("d"));
    // Both wait for the shared window's end (50 ms after "a"), then leave together.
    expect(sockets[1]!.writes).toEqual([]);
    time.advance(29);
    expect(sockets[1]!.writes).toEqual([]);
    time.advance(1);
    const later = new Date(time.wallNow() - 30).toISOString();
    expect(sockets[0]!.writes).toEqual([chunk(frame("a", at)), chunk(frame("c", later))]);
    expect(sockets[1]!.writes).toEqual([
      chunk(frame("b", new Date(time.wallNow() - 40).toISOString()) + frame("d", later)),
    ]);
  });

  it("says when a chunk is partly written and when every chunk is whole again, never per chunk", () => {
    const { time, socket, partials, lent } = writer(50);
    lent.push(delta("a"));
    socket.complete();
    expect(partials).toEqual([]);
    socket.isPartial = true;
    time.advance(50);
    lent.push(delta("b"));
    time.advance(50);
    lent.push(delta("c"));
    expect(partials).toEqual([true]);
    socket.isPartial = false;
    socket.complete();
    expect(partials).toEqual([true, false]);
  });

  it("writes the first frames at once and the next window's frames as one HTTP chunk", () => {
    const { time, socket, lent } = writer(50);
    const at = new Date(time.wallNow()).toISOString();
    lent.push(delta("Once"));
    expect(socket.writes).toEqual([chunk(frame("Once", at))]);
    time.advance(10);
    lent.push(delta(" upon"));
    lent.push(delta(" a é"));
    expect(socket.writes).toHaveLength(1);
    time.advance(40);
    const later = new Date(time.wallNow() - 40).toISOString();
    expect(socket.writes).toEqual([
      chunk(frame("Once", at)),
      chunk(frame(" upon", later) + frame(" a é", later)),
    ]);
  });

  it("writes one frame per piece of a joined delta and skips empty pieces", () => {
    const { time, socket, lent, gate } = writer(0);
    const at = new Date(time.wallNow()).toISOString();
    gate.spend();
    gate.spend();
    gate.spend();
    lent.push({
      type: "text-delta",
      text: "abc",
      tokenCount: 3,
      tokenIds: [1, 2, 3],
      pieceLengths: [1, 0, 2],
    });
    expect(socket.writes).toEqual([chunk(frame("a", at) + frame("bc", at))]);
    // Three deltas' credits came back: they never go over IPC.
    expect(gate.available).toBe(4);
  });

  it("holds credits while the socket's buffer is full and grants them on drain", () => {
    const { socket, lent, gate } = writer(0);
    socket.isFull = true;
    gate.spend();
    lent.push(delta("a"));
    gate.spend();
    lent.push(delta("b"));
    gate.spend();
    lent.push(delta("c"));
    // The first write reported the buffer full: from then on credits are held.
    expect(gate.available).toBe(1);
    socket.drain();
    expect(gate.available).toBe(4);
  });

  it("lets the socket go only after its last chunk reached the kernel", async () => {
    const { time, socket, lent } = writer(50);
    lent.push(delta("a"));
    time.advance(1);
    lent.push(delta("b"));
    let isReleased = false;
    const released = lent.release().then(() => (isReleased = true));
    // What waited for the window is written at once, before the socket goes.
    expect(socket.writes).toHaveLength(2);
    await Promise.resolve();
    expect(isReleased).toBe(false);
    expect(socket.isDestroyed).toBe(false);
    socket.complete();
    await released;
    expect(socket.isDestroyed).toBe(true);
    expect(time.pendingTimers).toBe(0);
  });

  it("reports a failed write (the client left) and releases at once", async () => {
    const { socket, lent, failures } = writer(0);
    lent.push(delta("a"));
    socket.fail(new Error("EPIPE"));
    expect(failures.map((error) => error.message)).toEqual(["EPIPE"]);
    lent.push(delta("b"));
    expect(socket.writes).toHaveLength(1);
    await lent.release();
    expect(socket.isDestroyed).toBe(true);
  });
});

describe("answerLend", () => {
  function runner() {
    const time = new FakeTime();
    const sentMessages: RunnerEvent[][] = [];
    const answers: unknown[] = [];
    const run = {
      controller: new AbortController(),
      gate: new CreditGate(64),
      urgency: new SendUrgency(32),
      sent: 0,
      lent: undefined,
      releasing: undefined,
    } as Lending & { controller: AbortController; gate: CreditGate; urgency: SendUrgency };
    const events = new StreamCoalescer<RunnerEvent>({
      windowMs: 50,
      maxItems: 64,
      time,
      keyOf: runnerEventKey,
      merge: mergeTextDeltas,
      send: (items) => {
        sentMessages.push(items.map((item) => ({ ...item })));
        run.sent += items.filter((item) => item.id === "g").length;
      },
    });
    const emit = emitLending(run, (event) => events.push({ id: "g", event }));
    const lend = (afterEvents: number, socket: FakeSocket | undefined = new FakeSocket()) => {
      answerLend({
        message: { type: "lend", id: "g", afterEvents, template },
        socket,
        run,
        events,
        time,
        window: new LentWindow({ windowMs: 50, time }),
        send: (answer) => answers.push(answer),
      });
      return socket;
    };
    return { time, run, events, emit, lend, sentMessages, answers };
  }

  it("declines while an event the main process has not counted is on its way, and closes its copy", () => {
    const { emit, lend, answers } = runner();
    emit(delta("a"));
    const socket = lend(0);
    expect(answers).toEqual([{ type: "lend-answer", id: "g", isAccepted: false }]);
    expect(socket.isDestroyed).toBe(true);
  });

  it("takes the socket with the text still waiting for the window, then sends the end over IPC after it", async () => {
    const { time, emit, lend, answers, sentMessages, run } = runner();
    emit(delta("a"));
    time.advance(10);
    emit(delta("b"));
    expect(sentMessages).toHaveLength(1);
    const socket = lend(1);
    expect(answers).toEqual([{ type: "lend-answer", id: "g", isAccepted: true }]);
    // "b" waited for the window: it goes to the socket, never over IPC.
    expect(socket.writes.join("")).toContain('"text":"b"');
    emit(delta("c"));
    emit({
      type: "end",
      reason: "length",
      usage: { promptTokens: 1, completionTokens: 3, cachedTokens: 0 },
      timings: { loadMs: 0, promptMs: 0, decodeMs: 0 },
    });
    time.advance(100);
    // The end waits for the lent chunks to reach the kernel.
    expect(sentMessages).toHaveLength(1);
    socket.complete();
    await run.releasing;
    await Promise.resolve();
    expect(socket.isDestroyed).toBe(true);
    time.advance(100);
    expect(sentMessages.flat().map((item) => item.event.type)).toEqual(["text-delta", "end"]);
    expect(socket.writes.join("")).toContain('"text":"c"');
  });
});
