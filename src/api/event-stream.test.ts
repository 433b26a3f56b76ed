import { describe, expect, it } from "vitest";
import { frameStream } from "./event-stream.js";

/** Frames that never come: the generation is silent (e.g. waiting for the reader's credit). */
function silentFrames(): AsyncIterator<string> {
  return {
    next: () => new Promise<IteratorResult<string>>(() => undefined),
    return: async () => ({ done: true, value: undefined }),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("frameStream heartbeat", () => {
  it("a reader that stops reading finds at most one heartbeat waiting, not one per interval", async () => {
    const controller = new AbortController();
    const stream = frameStream(silentFrames(), {
      heartbeat: { intervalMs: 20, frame: ": ping\n\n" },
      onCancel: () => undefined,
      clientSignal: controller.signal,
    });
    // Nobody reads for ten heartbeat intervals.
    await sleep(200);
    const reader = stream.getReader();
    const waiting: string[] = [];
    for (;;) {
      // A queued frame settles read() at once; an empty queue leaves it pending and the race ends.
      const next = await Promise.race([reader.read(), Promise.resolve(undefined)]);
      if (next === undefined || next.done === true) break;
      waiting.push(new TextDecoder().decode(next.value));
    }
    expect(waiting).toEqual([": ping\n\n"]);
    controller.abort();
    await reader.cancel();
  });
});
