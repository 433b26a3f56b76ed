/**
 * The scheduler's timers on fake time: keep-alive (an idle model unloads exactly when its
 * keep-alive passes; a request in between starts it again; the expiry users see is a wall time,
 * the timer runs on monotonic time) and queue deadlines (--queue-timeout fails a waiting
 * request exactly at its deadline).
 */
import { describe, expect, it } from "vitest";
import {
  EventBus,
  FakeTime,
  type AppError,
  type GenerateRequest,
  type ServerEvents,
  type StreamEvent,
} from "../core/index.js";
import { FakeEngine, type FakeModelBehaviour } from "../engine/index.js";
import { createScheduler, type SchedulerOptions } from "./index.js";
import { settle, testQueueOptions } from "./test-queue-options.testing.js";

function setup(behaviours: Record<string, FakeModelBehaviour>, overrides: Partial<SchedulerOptions>) {
  const time = new FakeTime();
  const engine = new FakeEngine(behaviours, { time });
  const events = new EventBus();
  const unloaded: ServerEvents["model-unloaded"][] = [];
  events.on("model-unloaded", (event) => unloaded.push(event));
  const ended: ServerEvents["request-end"][] = [];
  events.on("request-end", (event) => ended.push(event));
  const queue = createScheduler(testQueueOptions({ engine, events, time }, overrides));
  const loadedNames = () => queue.snapshot().loaded.map((model) => model.name);
  return { time, queue, unloaded, ended, loadedNames };
}

function request(id: string, model: string): GenerateRequest {
  return {
    id,
    model,
    input: { kind: "text", prompt: "hello" },
    maxTokens: 100,
    stop: [],
    sampling: { temperature: 0 },
    reportProgress: false,
    priority: "normal",
  };
}

async function text(stream: AsyncIterable<StreamEvent>): Promise<string> {
  let out = "";
  for await (const event of stream) if (event.type === "text-delta") out += event.text;
  return out;
}

const signal = (): AbortSignal => new AbortController().signal;

describe("keep-alive", () => {
  it("unloads an idle model exactly when its keep-alive passes, not before", async () => {
    const { time, queue, unloaded, loadedNames } = setup({ m: { reply: "hi" } }, { keepAliveMs: 10_000 });
    await text(queue.generate(request("1", "m"), { signal: signal() }));
    expect(queue.snapshot().loaded[0]?.expiresAtMs).toBe(time.wallNow() + 10_000);
    await time.advanceAsync(9_999);
    expect(loadedNames()).toEqual(["m"]);
    expect(unloaded).toEqual([]);
    await time.advanceAsync(1);
    expect(loadedNames()).toEqual([]);
    expect(unloaded).toEqual([{ model: "m", reason: "idle" }]);
    await queue.close();
  });

  it("a request before the keep-alive passes starts it again from that request's end", async () => {
    const { time, queue, unloaded, loadedNames } = setup({ m: { reply: "hi" } }, { keepAliveMs: 10_000 });
    await text(queue.generate(request("1", "m"), { signal: signal() }));
    await time.advanceAsync(6_000);
    await text(queue.generate(request("2", "m"), { signal: signal() }));
    expect(queue.snapshot().loaded[0]?.expiresAtMs).toBe(time.wallNow() + 10_000);
    await time.advanceAsync(4_000); // the first request's keep-alive would end here
    expect(loadedNames()).toEqual(["m"]);
    await time.advanceAsync(5_999);
    expect(loadedNames()).toEqual(["m"]);
    await time.advanceAsync(1);
    expect(loadedNames()).toEqual([]);
    expect(unloaded).toEqual([{ model: "m", reason: "idle" }]);
    await queue.close();
  });

  it("a request running longer than the keep-alive keeps its model; the keep-alive starts at its end", async () => {
    const { time, queue, loadedNames } = setup(
      { m: { reply: "a b", tokenDelayMs: 800 } },
      { keepAliveMs: 1_000 },
    );
    await settle(time, text(queue.generate(request("1", "m"), { signal: signal() })));
    const long = text(queue.generate(request("2", "m"), { signal: signal() }));
    await time.advanceAsync(1_200); // past the first request's keep-alive, mid-generation
    expect(loadedNames()).toEqual(["m"]);
    await expect(settle(time, long)).resolves.toBe("a b");
    await time.advanceAsync(999);
    expect(loadedNames()).toEqual(["m"]);
    await time.advanceAsync(1);
    expect(loadedNames()).toEqual([]);
    await queue.close();
  });

  it("a request's keep_alive replaces the default for the model; a pinned model stays whatever it asks", async () => {
    const { time, queue, loadedNames } = setup({}, { keepAliveMs: 10_000, pinnedModels: ["pinned"] });
    await text(queue.generate(request("1", "m"), { signal: signal(), keepAliveMs: 2_000 }));
    await text(queue.generate(request("2", "pinned"), { signal: signal(), keepAliveMs: 2_000 }));
    const pinned = queue.snapshot().loaded.find((model) => model.name === "pinned");
    expect(pinned).toMatchObject({ isPinned: true, expiresAtMs: undefined });
    await time.advanceAsync(1_999);
    expect(loadedNames().sort()).toEqual(["m", "pinned"]);
    await time.advanceAsync(1);
    expect(loadedNames()).toEqual(["pinned"]);
    await time.advanceAsync(24 * 60 * 60 * 1000);
    expect(loadedNames()).toEqual(["pinned"]);
    await queue.close();
  });

  it("the expiry shown is a wall time, but a wall-clock step does not move the unload", async () => {
    const { time, queue, loadedNames } = setup({ m: { reply: "hi" } }, { keepAliveMs: 10_000 });
    await text(queue.generate(request("1", "m"), { signal: signal() }));
    const expiresAtMs = queue.snapshot().loaded[0]?.expiresAtMs;
    expect(expiresAtMs).toBe(time.wallNow() + 10_000);
    time.setWall(time.wallNow() + 60 * 60 * 1000); // an NTP step of an hour
    await time.advanceAsync(9_999);
    expect(loadedNames()).toEqual(["m"]);
    expect(queue.snapshot().loaded[0]?.expiresAtMs).toBe(expiresAtMs);
    await time.advanceAsync(1);
    expect(loadedNames()).toEqual([]);
    await queue.close();
  });
});

describe("queue deadline", () => {
  it("fails a request still waiting for a sequence with queue-timeout exactly at --queue-timeout", async () => {
    const { time, queue, ended } = setup(
      { m: { reply: "a b", tokenDelayMs: 10_000 } },
      { queueTimeoutMs: 1_000 },
    );
    const busy = text(queue.generate(request("busy", "m"), { signal: signal() }));
    await time.advanceAsync(5);
    let failedAtMs: number | undefined;
    const late = text(queue.generate(request("late", "m"), { signal: signal() })).catch((error: unknown) => {
      failedAtMs = time.monotonicNow();
      return error as AppError;
    });
    await time.advanceAsync(999);
    expect(failedAtMs).toBeUndefined();
    expect(queue.snapshot().requests.find((status) => status.id === "late")?.state).toBe("queued");
    await time.advanceAsync(1);
    expect(failedAtMs).toBe(1_005);
    expect(((await late) as AppError).code).toBe("queue-timeout");
    expect(ended.find((event) => event.requestId === "late")).toMatchObject({
      outcome: "error",
      errorCode: "queue-timeout",
      queueMs: undefined,
    });
    expect(queue.snapshot().queued).toBe(0);
    await expect(settle(time, busy, { stepMs: 100 })).resolves.toBe("a b");
    await queue.close();
  });

  it("without a deadline (-1) a request waits as long as the sequence is busy", async () => {
    const { time, queue } = setup({ m: { reply: "a b", tokenDelayMs: 60_000 } }, { queueTimeoutMs: -1 });
    const busy = text(queue.generate(request("busy", "m"), { signal: signal() }));
    await time.advanceAsync(5);
    const patient = text(queue.generate(request("patient", "m"), { signal: signal() }));
    await expect(settle(time, patient, { stepMs: 1_000, maxMs: 300_000 })).resolves.toBe("a b");
    await expect(busy).resolves.toBe("a b");
    await queue.close();
  });
});
