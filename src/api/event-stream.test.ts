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

/** Frames pushed by the test, read through a few async generators as the serving path reads them. */
function pushedFrames() {
  const queue: (string | undefined)[] = [];
  let wake: (() => void) | undefined;
  async function* source(): AsyncGenerator<string> {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const frame = queue.shift();
      if (frame === undefined) return;
      yield frame;
    }
  }
  async function* layer(inner: AsyncGenerator<string>): AsyncGenerator<string> {
    for await (const frame of inner) yield frame;
  }
  const push = (...frames: (string | undefined)[]): void => {
    queue.push(...frames);
    wake?.();
  };
  return { frames: layer(layer(layer(layer(source())))), push };
}

describe("frameStream writes", () => {
  it("joins frames that arrive together into one chunk, keeps order, and sends a lone frame at once", async () => {
    const { frames, push } = pushedFrames();
    const controller = new AbortController();
    const reader = frameStream(frames, {
      onCancel: () => undefined,
      clientSignal: controller.signal,
    }).getReader();
    const decode = (chunk: { value?: Uint8Array }) => new TextDecoder().decode(chunk.value);
    push("a\n");
    expect(decode(await reader.read())).toBe("a\n");
    // One runner message with three tokens: one write.
    push("b\n", "c\n", "d\n");
    expect(decode(await reader.read())).toBe("b\nc\nd\n");
    push("e\n", undefined);
    expect(decode(await reader.read())).toBe("e\n");
    expect((await reader.read()).done).toBe(true);
  });
});
