import { describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { frameStream } from "./event-stream.js";

/** Frames that never come: the generation is silent (e.g. waiting for the reader's credit). */
function silentFrames(): AsyncIterator<string> {
  return {
    next: () => new Promise<IteratorResult<string>>(() => undefined),
    return: async () => ({ done: true, value: undefined }),
  };
}

/** The frames waiting in the stream's queue now, without waiting for more. */
async function drainQueued(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string[]> {
  const waiting: string[] = [];
  for (;;) {
    // A queued frame settles read() at once; an empty queue leaves it pending and the race ends.
    const next = await Promise.race([reader.read(), Promise.resolve(undefined)]);
    if (next === undefined || next.done === true) return waiting;
    waiting.push(new TextDecoder().decode(next.value));
  }
}

function silentStream(time: FakeTime, controller: AbortController) {
  return frameStream(silentFrames(), {
    heartbeat: { intervalMs: 20, frame: ": ping\n\n" },
    onCancel: () => undefined,
    clientSignal: controller.signal,
    time,
  });
}

describe("frameStream heartbeat", () => {
  it("a reader that stops reading finds at most one heartbeat waiting, not one per interval", async () => {
    const time = new FakeTime();
    const controller = new AbortController();
    const stream = silentStream(time, controller);
    // Nobody reads for ten heartbeat intervals.
    time.advance(200);
    const reader = stream.getReader();
    expect(await drainQueued(reader)).toEqual([": ping\n\n"]);
    controller.abort();
    await reader.cancel();
  });

  it("sends the heartbeat once the stream has been silent for the interval, and stops it when the client leaves", async () => {
    const time = new FakeTime();
    const controller = new AbortController();
    const reader = silentStream(time, controller).getReader();
    let received: string | undefined;
    void reader.read().then((next) => (received = new TextDecoder().decode(next.value)));
    await time.advanceAsync(19);
    expect(received).toBeUndefined();
    await time.advanceAsync(1);
    expect(received).toBe(": ping\n\n");
    expect(time.pendingTimers).toBe(1);
    controller.abort();
    expect(time.pendingTimers).toBe(0);
    await reader.cancel();
  });
});
