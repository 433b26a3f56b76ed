import { describe, expect, it } from "vitest";
import {
  AppError,
  EventBus,
  FakeTime,
  type GenerateEvent,
  type GenerateRequest,
  type ServerEvents,
} from "../core/index.js";
import { FakeEngine, type FakeModelBehaviour } from "../engine/index.js";
import { createScheduler, type SchedulerOptions } from "./index.js";
import { settle, testQueueOptions } from "./test-queue-options.testing.js";

function setup(
  behaviours: Record<string, FakeModelBehaviour> = {},
  overrides: Partial<SchedulerOptions> = {},
) {
  const time = new FakeTime();
  const engine = new FakeEngine(behaviours, { time });
  const events = new EventBus();
  const seen: { name: keyof ServerEvents; payload: unknown }[] = [];
  for (const name of ["model-load-start", "model-unloaded", "runner-crashed", "request-end"] as const) {
    events.on(name, (payload) => seen.push({ name, payload }));
  }
  const queue = createScheduler(
    testQueueOptions(
      { engine, events, time },
      {
        contextTokens: 256,
        maxQueued: 8,
        maxQueuedPerModel: overrides.maxQueued ?? 8,
        queueTimeoutMs: 2000,
        ...overrides,
      },
    ),
  );
  return { engine, queue, seen, time };
}

function request(model: string, maxTokens = 3): GenerateRequest {
  return {
    id: `r-${model}-${Math.random()}`,
    model,
    input: { kind: "text", prompt: "hello there" },
    maxTokens,
    stop: [],
    sampling: { temperature: 0 },
    reportProgress: false,
    priority: "normal",
  };
}

async function drain(stream: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const events: GenerateEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const signal = (): AbortSignal => new AbortController().signal;

describe("scheduler", () => {
  it("a request arriving while its model unloads (keep_alive 0) waits for the exit and loads it again", async () => {
    const { engine, queue, seen, time } = setup({ a: { unloadDelayMs: 50 } });
    expect(
      (await settle(time, drain(queue.generate(request("a"), { signal: signal(), keepAliveMs: 0 })))).at(-1),
    ).toMatchObject({ type: "end" });
    await time.advanceAsync(5);
    // The unload has begun (the runner takes 50 ms to exit); the next request must not fail.
    const next = await settle(time, drain(queue.generate(request("a"), { signal: signal() })));
    expect(next.at(-1)).toMatchObject({ type: "end", reason: "length" });
    expect(engine.loads).toBe(2);
    expect(seen.filter((event) => event.name === "model-unloaded")).toHaveLength(1);
    await settle(time, queue.close());
  });

  it("loads a model once for concurrent requests and streams to each", async () => {
    const { engine, queue, time } = setup({ a: { loadDelayMs: 30 } }, { parallel: 2 });
    const [first, second] = await settle(
      time,
      Promise.all([
        drain(queue.generate(request("a"), { signal: signal() })),
        drain(queue.generate(request("a"), { signal: signal() })),
      ]),
    );
    expect(engine.loads).toBe(1);
    expect(first.at(-1)).toMatchObject({ type: "end", reason: "length" });
    expect(second.at(-1)).toMatchObject({ type: "end", reason: "length" });
    await queue.close();
  });

  it("evicts the least recently used idle model past maxLoadedModels", async () => {
    const { queue, seen, time } = setup();
    // A millisecond between requests, so "least recently used" has an order.
    for (const model of ["a", "b", "a", "c"]) {
      await drain(queue.generate(request(model), { signal: signal() }));
      await time.advanceAsync(1);
    }
    expect(
      queue
        .snapshot()
        .loaded.map((model) => model.name)
        .sort(),
    ).toEqual(["a", "c"]);
    expect(seen.filter((event) => event.name === "model-unloaded")).toEqual([
      { name: "model-unloaded", payload: { model: "b", reason: "evicted" } },
    ]);
    await queue.close();
  });

  it("never evicts a model with a request in flight: the new load waits for it", async () => {
    const { queue, time } = setup({ a: { tokenDelayMs: 40 } }, { maxLoadedModels: 1 });
    const slow = drain(queue.generate(request("a", 4), { signal: signal() }));
    await time.advanceAsync(20);
    const order: string[] = [];
    const other = drain(queue.generate(request("b"), { signal: signal() })).then(() => order.push("b"));
    await settle(time, Promise.all([slow.then(() => order.push("a")), other]));
    expect(order).toEqual(["a", "b"]);
    await queue.close();
  });

  it("keep_alive 0 unloads the model when its request ends", async () => {
    const { queue, time } = setup();
    await drain(queue.generate(request("a"), { signal: signal(), keepAliveMs: 0 }));
    await time.advanceAsync(10);
    expect(queue.snapshot().loaded).toEqual([]);
    await queue.close();
  });

  it("a failed load reaches the request and the next request retries", async () => {
    const { engine, queue } = setup({ a: { loadError: "out of memory" } });
    await expect(drain(queue.generate(request("a"), { signal: signal() }))).rejects.toThrow(
      /Model "a" failed to load: out of memory/,
    );
    engine.setBehaviour("a", {});
    await expect(drain(queue.generate(request("a"), { signal: signal() }))).resolves.toHaveLength(4);
    expect(engine.loads).toBe(2);
    await queue.close();
  });

  it("rejects at once when the queue is full, with Retry-After", async () => {
    const { queue, time } = setup({ a: { tokenDelayMs: 50 } }, { maxQueued: 1 });
    const running = drain(queue.generate(request("a", 3), { signal: signal() }));
    await time.advanceAsync(10);
    const waiting = drain(queue.generate(request("a", 1), { signal: signal() }));
    await time.advanceAsync(10);
    const rejected = await drain(queue.generate(request("a"), { signal: signal() })).catch(
      (error: unknown) => error,
    );
    expect(rejected).toBeInstanceOf(AppError);
    expect((rejected as AppError).code).toBe("queue-full");
    expect((rejected as AppError).retryAfterSeconds).toBeGreaterThan(0);
    await settle(time, Promise.all([running, waiting]));
    await queue.close();
  });

  it("a request cancelled while queued leaves the queue and frees nothing twice", async () => {
    const { queue, time } = setup({ a: { tokenDelayMs: 30 } });
    const running = drain(queue.generate(request("a", 3), { signal: signal() }));
    const controller = new AbortController();
    const queued = drain(queue.generate(request("a"), { signal: controller.signal })).catch(
      (error: unknown) => error,
    );
    await time.advanceAsync(10);
    controller.abort();
    expect(((await queued) as AppError).code).toBe("cancelled");
    await settle(time, running);
    expect(queue.snapshot().queued).toBe(0);
    await expect(
      settle(time, drain(queue.generate(request("a", 1), { signal: signal() }))),
    ).resolves.toHaveLength(2);
    await queue.close();
  });

  it("a crashed runner fails its request, is forgotten, and the next request reloads", async () => {
    const { engine, queue, seen, time } = setup({ a: { crashAfterTokens: 2 } });
    await expect(drain(queue.generate(request("a", 5), { signal: signal() }))).rejects.toThrow(/crashed/);
    await time.advanceAsync(5);
    expect(queue.snapshot().loaded).toEqual([]);
    expect(seen.some((event) => event.name === "runner-crashed")).toBe(true);
    engine.setBehaviour("a", {});
    await drain(queue.generate(request("a"), { signal: signal() }));
    expect(engine.loads).toBe(2);
    await queue.close();
  });
});
