import { describe, expect, it } from "vitest";
import { AppError, type StreamEvent } from "../core/index.js";
import { formatEvents, type EventFormat } from "./event-frames.js";

const usage = { promptTokens: 3, completionTokens: 2, cachedTokens: 0 };
const timings = { loadMs: 0, promptMs: 1, decodeMs: 2 };
const text = (value: string): StreamEvent => ({ type: "text-delta", text: value, tokenCount: 1 });
const end = (reason: "stop" | "cancelled"): StreamEvent => ({ type: "end", reason, usage, timings });

const format: EventFormat = {
  opening: "[open]",
  frames: (event) => (event.type === "text-delta" ? `[${event.text}]` : event.type === "end" ? "[end]" : ""),
  error: (error) => `[error ${(error as AppError).code ?? String(error)}]`,
};

async function* generation(
  events: StreamEvent[],
  log: string[],
  failure?: Error,
): AsyncGenerator<StreamEvent> {
  try {
    for (const event of events) yield event;
    if (failure !== undefined) throw failure;
  } finally {
    log.push("closed");
  }
}

async function all(frames: AsyncIterator<string>): Promise<string[]> {
  const seen: string[] = [];
  for (let result = await frames.next(); result.done !== true; result = await frames.next())
    seen.push(result.value);
  return seen;
}

const ending = { signal: new AbortController().signal, requestId: "req-1" };

describe("formatEvents", () => {
  it("opens, formats every event, skips events without frames and ends after the generation", async () => {
    const log: string[] = [];
    const events = [
      text("a"),
      { type: "tool-call-delta", index: 0, id: "c", name: "f", argumentsDelta: "" } as StreamEvent,
      text("b"),
      end("stop"),
    ];
    expect(await all(formatEvents(generation(events, log), format, ending))).toEqual([
      "[open]",
      "[a]",
      "[b]",
      "[end]",
    ]);
    expect(log).toEqual(["closed"]);
  });

  it("ends a cancelled generation with the cancelled error after closing it", async () => {
    const log: string[] = [];
    const frames = formatEvents(
      generation([text("a"), end("cancelled"), text("never")], log),
      format,
      ending,
    );
    expect(await all(frames)).toEqual(["[open]", "[a]", "[error cancelled]"]);
    expect(log).toEqual(["closed"]);
  });

  it("formats a cancelled end like any end without a cancelled ending (/infill)", async () => {
    const log: string[] = [];
    const frames = formatEvents(generation([text("a"), end("cancelled")], log), format, undefined);
    expect(await all(frames)).toEqual(["[open]", "[a]", "[end]"]);
    expect(log).toEqual(["closed"]);
  });

  it("reports the generation's error as one frame, then ends", async () => {
    const log: string[] = [];
    const failure = new AppError("runner-crashed", "The runner stopped.");
    const frames = formatEvents(generation([text("a")], log, failure), { ...format, opening: "" }, ending);
    expect(await all(frames)).toEqual(["[a]", "[error runner-crashed]"]);
    expect(await frames.next()).toEqual({ value: undefined, done: true });
  });

  it("closes the generation on return()", async () => {
    const log: string[] = [];
    const frames = formatEvents(generation([text("a"), text("b"), end("stop")], log), format, ending);
    expect((await frames.next()).value).toBe("[open]");
    expect((await frames.next()).value).toBe("[a]");
    await frames.return?.();
    expect(log).toEqual(["closed"]);
    expect(await frames.next()).toEqual({ value: undefined, done: true });
  });
});
