import { describe, expect, it } from "vitest";
import { AppError, type AuditTicket, type StreamEvent } from "../core/index.js";
import { generationEvents } from "./generation-events.js";

const usage = { promptTokens: 3, completionTokens: 2, cachedTokens: 0 };
const timings = { loadMs: 0, promptMs: 1, decodeMs: 2 };
const text = (value: string): StreamEvent => ({ type: "text-delta", text: value, tokenCount: 1 });
const end: StreamEvent = { type: "end", reason: "stop", usage, timings };

function setUp(events: StreamEvent[], options: { failure?: Error } = {}) {
  const log: string[] = [];
  async function* queue(): AsyncGenerator<StreamEvent> {
    for (const event of events) yield event;
    if (options.failure !== undefined) throw options.failure;
    log.push("request-end");
  }
  const ticket = {
    recordsContent: true,
    output: (value: string) => log.push(`output ${value}`),
    settled: () => (log.push("settled"), Promise.resolve()),
  } as unknown as AuditTicket;
  const iterator = queue();
  return {
    log,
    start: async () =>
      generationEvents({
        first: await iterator.next(),
        iterator,
        ticket,
        stopSignal: undefined,
        clientSignal: new AbortController().signal,
        stopped: () => new AppError("shutting-down", "stopped"),
        close: () => (log.push("close"), Promise.resolve()),
        markDone: () => log.push("done"),
      }),
  };
}

describe("generationEvents", () => {
  it("hands out the first event, records content, and gives `end` only after request-end and the record", async () => {
    const { log, start } = setUp([text("a"), text("b"), end]);
    const seen: StreamEvent[] = [];
    for await (const event of await start()) {
      if (event.type === "end") expect(log).toContain("request-end");
      seen.push(event);
    }
    expect(seen).toEqual([text("a"), text("b"), end]);
    expect(log).toEqual(["output a", "output b", "request-end", "done", "settled", "done", "close"]);
  });

  it("fails with the queue's error after the record, and closes", async () => {
    const failure = new AppError("runner-crashed", "The runner stopped.");
    const { log, start } = setUp([text("a")], { failure });
    const events = await start();
    expect((await events.next()).value).toEqual(text("a"));
    await expect(events.next()).rejects.toBe(failure);
    expect(log.slice(-2)).toEqual(["settled", "close"]);
    expect(await events.next()).toEqual({ value: undefined, done: true });
  });

  it("closes on return() once iterated, not before the first next()", async () => {
    const fresh = setUp([text("a"), end]);
    await (await fresh.start()).return();
    expect(fresh.log).toEqual([]);
    const open = setUp([text("a"), end]);
    const events = await open.start();
    await events.next();
    await events.return();
    expect(open.log).toEqual(["output a", "close"]);
  });
});
