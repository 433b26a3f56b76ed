/**
 * Scheduler behaviour with FakeEngine on fake time: priority order, FIFO within a class,
 * aging, no head-of-line blocking across models, eviction and pinning, memory admission,
 * deadlines, cancellation in each phase, preemption with exact resume, and crashes.
 */
import { describe, expect, it } from "vitest";
import {
  EventBus,
  FakeTime,
  type AppError,
  type GenerateRequest,
  type Priority,
  type StreamEvent,
} from "../core/index.js";
import { FakeEngine, type FakeModelBehaviour } from "../engine/index.js";
import { choosePreemptionVictim, createScheduler, type Scheduler, type SchedulerOptions } from "./index.js";
import type { RunningRequest } from "./policies.js";
import { settle, testQueueOptions } from "./test-queue-options.testing.js";

function setup(behaviours: Record<string, FakeModelBehaviour>, overrides: Partial<SchedulerOptions> = {}) {
  const time = new FakeTime();
  const engine = new FakeEngine(behaviours, { time });
  const events = new EventBus();
  const started: string[] = [];
  const log: string[] = [];
  events.on("request-started", (event) => started.push(event.requestId));
  for (const name of ["request-preempted", "request-resumed", "model-unloaded"] as const) {
    events.on(name, (event) =>
      log.push(
        `${name}:${"requestId" in event ? event.requestId : event.model}${"byRequestId" in event ? ` by ${event.byRequestId}` : ""}`,
      ),
    );
  }
  const queue = createScheduler(testQueueOptions({ engine, events, time }, overrides));
  return { engine, queue, time, started, log };
}

function request(
  id: string,
  model: string,
  options: { priority?: Priority; maxTokens?: number } = {},
): GenerateRequest {
  return {
    id,
    model,
    input: { kind: "text", prompt: "hello" },
    maxTokens: options.maxTokens ?? 100,
    stop: [],
    sampling: { temperature: 0 },
    reportProgress: false,
    priority: options.priority ?? "normal",
  };
}

async function text(stream: AsyncIterable<StreamEvent>): Promise<string> {
  let out = "";
  for await (const event of stream) if (event.type === "text-delta") out += event.text;
  return out;
}

const signal = (): AbortSignal => new AbortController().signal;
const statusOf = (queue: Scheduler, id: string) =>
  queue.snapshot().requests.find((request) => request.id === id);

describe("priorities", () => {
  it("starts waiting requests high, then normal, then low, FIFO within a class", async () => {
    const { queue, time, started } = setup({ m: { reply: "a b c", tokenDelayMs: 15 } });
    const runs = [text(queue.generate(request("first", "m"), { signal: signal() }))];
    await time.advanceAsync(5);
    for (const [id, priority] of [
      ["low-1", "low"],
      ["normal-1", "normal"],
      ["high-1", "high"],
      ["low-2", "low"],
      ["high-2", "high"],
      ["normal-2", "normal"],
    ] as const) {
      runs.push(text(queue.generate(request(id, "m", { priority }), { signal: signal() })));
    }
    await settle(time, Promise.all(runs));
    expect(started).toEqual(["first", "high-1", "high-2", "normal-1", "normal-2", "low-1", "low-2"]);
    await queue.close();
  });

  it("FIFO policy ignores priorities", async () => {
    const { queue, time, started } = setup(
      { m: { reply: "a b", tokenDelayMs: 10 } },
      { queuePolicy: "fifo" },
    );
    const runs = [text(queue.generate(request("first", "m"), { signal: signal() }))];
    await time.advanceAsync(5);
    runs.push(text(queue.generate(request("low", "m", { priority: "low" }), { signal: signal() })));
    runs.push(text(queue.generate(request("high", "m", { priority: "high" }), { signal: signal() })));
    await settle(time, Promise.all(runs));
    expect(started).toEqual(["first", "low", "high"]);
    // No class to preempt for: preemption is off under FIFO whatever was asked, and the queue view says so.
    expect(queue.snapshot().isPreemptionEnabled).toBe(false);
    await queue.close();
  });

  it("aging: a low request that waited two aging steps starts before newer high requests", async () => {
    // "first" holds the only sequence until 62 s (two tokens, 31 s each); no queue deadline.
    const { queue, time, started } = setup(
      { m: { reply: "a b", tokenDelayMs: 31_000 } },
      { isPreemptionEnabled: false, queueTimeoutMs: -1 },
    );
    const runs = [text(queue.generate(request("first", "m"), { signal: signal() }))];
    await time.advanceAsync(5);
    runs.push(text(queue.generate(request("old-low", "m", { priority: "low" }), { signal: signal() })));
    await time.advanceAsync(61_000); // the low request has now waited just over two aging steps
    runs.push(text(queue.generate(request("new-high", "m", { priority: "high" }), { signal: signal() })));
    await settle(time, Promise.all(runs), { stepMs: 1000, maxMs: 300_000 });
    expect(started).toEqual(["first", "old-low", "new-high"]);
    await queue.close();
  });

  it("a request for a loaded model never waits behind another model's load", async () => {
    const { queue, time } = setup({ slow: { loadDelayMs: 300 }, fast: { reply: "ok" } });
    await text(queue.generate(request("warm", "fast"), { signal: signal() }));
    const order: string[] = [];
    const slow = text(queue.generate(request("s", "slow"), { signal: signal() })).then(() =>
      order.push("slow"),
    );
    const fast = text(queue.generate(request("f", "fast"), { signal: signal() })).then(() =>
      order.push("fast"),
    );
    await settle(time, Promise.all([slow, fast]));
    expect(order).toEqual(["fast", "slow"]);
    await queue.close();
  });
});

describe("residency", () => {
  it("never evicts a pinned model; evicts the least recently used unpinned one", async () => {
    const { queue, log } = setup({}, { pinnedModels: ["pinned"] });
    await text(queue.generate(request("1", "pinned"), { signal: signal() }));
    await text(queue.generate(request("2", "other"), { signal: signal() }));
    await text(queue.generate(request("3", "third"), { signal: signal() }));
    expect(
      queue
        .snapshot()
        .loaded.map((model) => model.name)
        .sort(),
    ).toEqual(["pinned", "third"]);
    expect(log).toContain("model-unloaded:other");
    await queue.close();
  });

  it("fails fast when pinned models fill the room", async () => {
    const { queue } = setup({}, { pinnedModels: ["a"], maxLoadedModels: 1 });
    await text(queue.generate(request("1", "a"), { signal: signal() }));
    await expect(text(queue.generate(request("2", "b"), { signal: signal() }))).rejects.toThrow(
      /pinned models "a"/,
    );
    await queue.close();
  });

  it("evicts by memory: a model that does not fit beside another unloads it first", async () => {
    const sizes: Record<string, number> = { a: 600 * 1024 ** 2, b: 600 * 1024 ** 2 };
    const { queue, log } = setup(
      {},
      {
        estimateMemory: (model) => ({
          totalBytes: sizes[model.name] ?? 0,
          weightsBytes: sizes[model.name] ?? 0,
          kvCacheBytes: 0,
          computeBytes: 0,
        }),
      },
    );
    await text(queue.generate(request("1", "a"), { signal: signal() }));
    await text(queue.generate(request("2", "b"), { signal: signal() }));
    expect(queue.snapshot().loaded.map((model) => model.name)).toEqual(["b"]);
    expect(log).toContain("model-unloaded:a");
    await queue.close();
  });

  it("a model that can never fit fails at once with the numbers", async () => {
    const { queue, engine } = setup(
      {},
      {
        estimateMemory: () => ({
          totalBytes: 3 * 1024 ** 3,
          weightsBytes: 2.5 * 1024 ** 3,
          kvCacheBytes: 0.5 * 1024 ** 3,
          computeBytes: 0,
        }),
      },
    );
    const error = (await text(queue.generate(request("1", "huge"), { signal: signal() })).catch(
      (caught: unknown) => caught,
    )) as AppError;
    expect(error.code).toBe("insufficient-memory");
    expect(error.message).toMatch(
      /needs about 3\.0 GiB \(weights 2\.5 GiB, KV cache 512 MiB.*memory budget is 1\.0 GiB/,
    );
    expect(engine.loads).toBe(0);
    await queue.close();
  });
});

describe("limits, deadlines and cancellation", () => {
  it("a request that waits past its queue deadline fails with queue-timeout", async () => {
    const { queue, time } = setup({ m: { reply: "a b c d e f", tokenDelayMs: 40 } }, { queueTimeoutMs: 60 });
    const running = text(queue.generate(request("busy", "m"), { signal: signal() }));
    await time.advanceAsync(5);
    const error = (await settle(
      time,
      text(queue.generate(request("late", "m"), { signal: signal() })).catch((caught: unknown) => caught),
    )) as AppError;
    expect(error.code).toBe("queue-timeout");
    await settle(time, running);
    await queue.close();
  });

  it("the per-model queue limit rejects with queue-full while other models still queue", async () => {
    const { queue, time } = setup(
      { m: { reply: "a b c", tokenDelayMs: 30 }, n: { reply: "x" } },
      { maxQueuedPerModel: 1 },
    );
    const running = text(queue.generate(request("busy", "m"), { signal: signal() }));
    await time.advanceAsync(5);
    const waiting = text(queue.generate(request("wait", "m"), { signal: signal() }));
    await time.advanceAsync(5);
    const error = (await text(queue.generate(request("over", "m"), { signal: signal() })).catch(
      (caught: unknown) => caught,
    )) as AppError;
    expect(error.code).toBe("queue-full");
    await expect(text(queue.generate(request("other", "n"), { signal: signal() }))).resolves.toBe("x");
    await settle(time, Promise.all([running, waiting]));
    await queue.close();
  });

  it("cancel by id works while queued and while generating, and frees the slot", async () => {
    const { queue, time } = setup({ m: { reply: "a b c d e f g h", tokenDelayMs: 20 } });
    const running = text(queue.generate(request("gen", "m"), { signal: signal() })).catch(
      (caught: unknown) => caught,
    );
    const queued = text(
      queue.generate(request("queued", "m", { priority: "low" }), { signal: signal() }),
    ).catch((caught: unknown) => caught);
    await time.advanceAsync(30);
    expect(statusOf(queue, "queued")).toMatchObject({ state: "queued", position: 1 });
    expect(await queue.cancel("queued")).toBe("queued");
    expect(((await queued) as AppError).code).toBe("cancelled");
    expect(await queue.cancel("gen")).toBe("running");
    const partial = await settle(time, running);
    expect(typeof partial === "string" && partial.split(" ").length).toBeLessThan(8);
    expect(await queue.cancel("gen")).toBeUndefined();
    await expect(
      settle(time, text(queue.generate(request("after", "m", { maxTokens: 2 }), { signal: signal() }))),
    ).resolves.toBe("a b");
    await queue.close();
  });

  it("/v1/queue view counts queued and running per priority", async () => {
    const { queue, time } = setup({ m: { reply: "a b c d", tokenDelayMs: 20 } });
    const runs = [text(queue.generate(request("r", "m", { priority: "low" }), { signal: signal() }))];
    await time.advanceAsync(5);
    runs.push(text(queue.generate(request("q1", "m", { priority: "normal" }), { signal: signal() })));
    runs.push(text(queue.generate(request("q2", "m", { priority: "normal" }), { signal: signal() })));
    await time.advanceAsync(5);
    const view = queue.snapshot().models[0]!;
    expect(view.priorities.low).toMatchObject({ running: 1, queued: 0 });
    expect(view.priorities.normal.queued).toBe(2);
    expect(view.priorities.normal.oldestWaitMs).toBeGreaterThanOrEqual(0);
    expect(statusOf(queue, "q2")?.position).toBe(2);
    await settle(time, Promise.all(runs));
    await queue.close();
  });
});

describe("preemption", () => {
  const reply = "one two three four five six seven eight nine ten eleven twelve";

  it("a waiting high request takes a low request's sequence; the low one resumes with exact text", async () => {
    const { queue, time, started, log } = setup({ m: { reply, tokenDelayMs: 10 } });
    const low = text(queue.generate(request("low", "m", { priority: "low" }), { signal: signal() }));
    await time.advanceAsync(45);
    const high = text(
      queue.generate(request("high", "m", { priority: "high", maxTokens: 3 }), { signal: signal() }),
    );
    expect(await settle(time, high)).toBe("one two three");
    expect(await settle(time, low)).toBe(reply);
    expect(started).toEqual(["low", "high"]);
    expect(log).toEqual(["request-preempted:low by high", "request-resumed:low"]);
    await queue.close();
  });

  it("with preemption off the high request waits", async () => {
    const { queue, time, log } = setup(
      { m: { reply: "a b c d", tokenDelayMs: 10 } },
      { isPreemptionEnabled: false },
    );
    const low = text(queue.generate(request("low", "m", { priority: "low" }), { signal: signal() }));
    await time.advanceAsync(15);
    const high = text(queue.generate(request("high", "m", { priority: "high" }), { signal: signal() }));
    await settle(time, Promise.all([low, high]));
    expect(log).toEqual([]);
    await queue.close();
  });
});

describe("crashes", () => {
  it("a request waiting on a model whose runner crashes is served by the reload", async () => {
    const { queue, engine, time } = setup({
      m: { reply: "a b c d", tokenDelayMs: 10, crashAfterTokens: 2 },
    });
    const crashing = text(queue.generate(request("crash", "m"), { signal: signal() })).catch(
      (caught: unknown) => caught,
    );
    await time.advanceAsync(5);
    const waiting = text(queue.generate(request("wait", "m"), { signal: signal() }));
    await time.advanceAsync(1);
    engine.setBehaviour("m", { reply: "fine" });
    expect(((await settle(time, crashing)) as AppError).code).toBe("runner-crashed");
    await expect(settle(time, waiting)).resolves.toBe("fine");
    expect(engine.loads).toBe(2);
    await queue.close();
  });
});

describe("choosePreemptionVictim", () => {
  const running = (requestId: string, fields: Partial<RunningRequest> = {}): RunningRequest => ({
    requestId,
    priority: "low",
    startedMs: 0,
    isPreemptible: true,
    isBeingPreempted: false,
    preemptions: 0,
    isDecoding: true,
    ...fields,
  });

  it("prefers a decoding low request over a newer one still in its prompt (it stops within a token)", () => {
    expect(
      choosePreemptionVictim([
        running("decoding", { startedMs: 10 }),
        running("prompt", { startedMs: 20, isDecoding: false }),
      ])?.requestId,
    ).toBe("decoding");
  });

  it("among decoding requests takes the most recently started, and skips normal, pinned-down and already preempted ones", () => {
    const victim = choosePreemptionVictim([
      running("old", { startedMs: 10 }),
      running("new", { startedMs: 30 }),
      running("normal", { startedMs: 40, priority: "normal" }),
      running("json", { startedMs: 50, isPreemptible: false }),
      running("bounced", { startedMs: 60, preemptions: 1 }),
      running("going", { startedMs: 70, isBeingPreempted: true }),
    ]);
    expect(victim?.requestId).toBe("new");
  });

  it("takes a request in its prompt when no low request is decoding", () => {
    expect(
      choosePreemptionVictim([
        running("a", { startedMs: 10, isDecoding: false }),
        running("b", { startedMs: 20, isDecoding: false }),
      ])?.requestId,
    ).toBe("b");
    expect(choosePreemptionVictim([running("n", { priority: "normal" })])).toBeUndefined();
  });
});
