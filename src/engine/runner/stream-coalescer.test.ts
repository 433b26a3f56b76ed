import { describe, expect, it } from "vitest";
import { FakeTime } from "../../core/index.js";
import { StreamCoalescer } from "./stream-coalescer.js";

function coalescer(windowMs: number, maxItems = 64) {
  const time = new FakeTime();
  const sent: { atMs: number; items: string[] }[] = [];
  const start = time.monotonicNow();
  const instance = new StreamCoalescer<string>({
    windowMs,
    maxItems,
    time,
    // The array is reused after send returns: copy it, as serialising does.
    send: (items) => sent.push({ atMs: time.monotonicNow() - start, items: [...items] }),
  });
  return { time, sent, coalescer: instance };
}

describe("StreamCoalescer", () => {
  it("sends the first item at once, and each item of a stream slower than the window at once", () => {
    const { time, sent, coalescer: events } = coalescer(4);
    events.push("a");
    expect(sent).toEqual([{ atMs: 0, items: ["a"] }]);
    time.advance(5);
    events.push("b");
    time.advance(7);
    events.push("c");
    expect(sent).toEqual([
      { atMs: 0, items: ["a"] },
      { atMs: 5, items: ["b"] },
      { atMs: 12, items: ["c"] },
    ]);
    expect(time.pendingTimers).toBe(0);
  });

  it("holds items that follow closer than the window and sends them together when it ends", () => {
    const { time, sent, coalescer: events } = coalescer(4);
    events.push("a");
    time.advance(1);
    events.push("b");
    time.advance(1);
    events.push("c");
    expect(sent).toHaveLength(1);
    expect(events.pendingCount).toBe(2);
    time.advance(1);
    expect(sent).toHaveLength(1);
    time.advance(1);
    // 4 ms after the last message, never later.
    expect(sent).toEqual([
      { atMs: 0, items: ["a"] },
      { atMs: 4, items: ["b", "c"] },
    ]);
    // The window starts again at the message just sent.
    time.advance(1);
    events.push("d");
    expect(sent).toHaveLength(2);
    time.advance(3);
    expect(sent.at(-1)).toEqual({ atMs: 8, items: ["d"] });
    expect(time.pendingTimers).toBe(0);
  });

  it("sends an urgent item (a generation's end) at once, with what waits before it, in order", () => {
    const { time, sent, coalescer: events } = coalescer(4);
    events.push("a");
    time.advance(1);
    events.push("b");
    events.pushUrgent("end");
    expect(sent).toEqual([
      { atMs: 0, items: ["a"] },
      { atMs: 1, items: ["b", "end"] },
    ]);
    expect(time.pendingTimers).toBe(0);
  });

  it("sends a full message at once", () => {
    const { time, sent, coalescer: events } = coalescer(4, 3);
    events.push("a");
    for (const item of ["b", "c", "d"]) events.push(item);
    expect(sent).toEqual([
      { atMs: 0, items: ["a"] },
      { atMs: 0, items: ["b", "c", "d"] },
    ]);
    expect(time.pendingTimers).toBe(0);
  });

  it("flush sends what waits, so another message cannot overtake it", () => {
    const { time, sent, coalescer: events } = coalescer(4);
    events.push("a");
    events.push("b");
    events.flush();
    events.flush();
    expect(sent.map((message) => message.items)).toEqual([["a"], ["b"]]);
    expect(time.pendingTimers).toBe(0);
  });

  it("with a window of 0 sends every item on its own", () => {
    const { sent, coalescer: events } = coalescer(0);
    for (const item of ["a", "b", "c"]) events.push(item);
    expect(sent.map((message) => message.items)).toEqual([["a"], ["b"], ["c"]]);
  });
});
