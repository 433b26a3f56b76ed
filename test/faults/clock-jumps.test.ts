/**
 * Issue #15 §2: the wall clock steps back an hour and forward a day (NTP, a hand-set date, a VM
 * restored from a snapshot). Durations, rate-limit windows, the backup schedule (the RPO timer)
 * and the SLA's intervals and incidents run on the monotonic clock; wall time only stamps things.
 * Each component on FakeTime, across `setWall` steps of −1 h and +1 day.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AuthRateLimiter } from "../../src/api/auth-rate-limit.js";
import {
  EventBus,
  FakeTime,
  silentLogger,
  type GenerateRequest,
  type ServerEvents,
  type StreamEvent,
} from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import { BackupSchedule } from "../../src/ops/backup/backup-schedule.js";
import { MetricsCollector } from "../../src/ops/metrics/metrics-collector.js";
import type { BackupManager } from "../../src/ops/index.js";
import { runHealthChecks, type SlaProbes } from "../../src/ops/sla/health-checks.js";
import { startTestSlaManager } from "../../src/ops/sla/sla-manager.testing.js";
import { buildReport } from "../../src/ops/sla/sla-report.js";
import { createScheduler } from "../../src/scheduler/index.js";
import { settle, testQueueOptions } from "../../src/scheduler/test-queue-options.testing.js";
import { Database } from "../../src/store/index.js";

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;
const steps = [
  { name: "−1 h", stepMs: -hourMs },
  { name: "+1 day", stepMs: dayMs },
] as const;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Mid-month, so neither step leaves April 2026. */
const newTime = (): FakeTime => new FakeTime({ wallMs: Date.UTC(2026, 3, 10, 12) });
const step = (time: FakeTime, stepMs: number): void => time.setWall(time.wallNow() + stepMs);

describe.each(steps)("the wall clock steps $name", ({ stepMs }) => {
  it("request durations are monotonic: totalMs is the time the request really took", async () => {
    const time = newTime();
    const engine = new FakeEngine(
      { m: { reply: "one two three four five six", tokenDelayMs: 100 } },
      { time },
    );
    const events = new EventBus();
    const ended: ServerEvents["request-end"][] = [];
    events.on("request-end", (event) => ended.push(event));
    const queue = createScheduler(testQueueOptions({ engine, events, time }));
    cleanups.push(() => queue.close());
    const request: GenerateRequest = {
      id: "r1",
      model: "m",
      input: { kind: "text", prompt: "hello" },
      maxTokens: 100,
      stop: [],
      sampling: { temperature: 0 },
      reportProgress: false,
      priority: "normal",
    };
    const startedMs = time.monotonicNow();
    const drained = (async () => {
      let count = 0;
      for await (const event of queue.generate(request, {
        signal: new AbortController().signal,
      }) as AsyncIterable<StreamEvent>) {
        if (event.type === "text-delta" && ++count === 2) step(time, stepMs);
      }
    })();
    await settle(time, drained, { stepMs: 10 });
    const tookMs = time.monotonicNow() - startedMs;
    expect(ended).toHaveLength(1);
    expect(ended[0]!.totalMs).toBeGreaterThan(0);
    expect(ended[0]!.totalMs).toBeLessThanOrEqual(tookMs);
    expect(ended[0]!.totalMs).toBeGreaterThan(tookMs - 50);
    expect(ended[0]!.decodeMs ?? 0).toBeGreaterThanOrEqual(0);
  });

  it("queue aging counts waiting time on the monotonic clock: a low request aged 60 s starts before a newer high", async () => {
    const time = newTime();
    const engine = new FakeEngine({ m: { reply: "word ".repeat(400), tokenDelayMs: 1000 } }, { time });
    const events = new EventBus();
    const started: string[] = [];
    events.on("request-started", (event) => started.push(event.requestId));
    const queue = createScheduler(
      testQueueOptions(
        { engine, events, time },
        { agingStepMs: 30_000, isPreemptionEnabled: false, queueTimeoutMs: 600_000 },
      ),
    );
    cleanups.push(() => queue.close());
    const run = (id: string, priority: GenerateRequest["priority"], signal: AbortSignal): Promise<void> =>
      (async () => {
        const request: GenerateRequest = {
          id,
          model: "m",
          input: { kind: "text", prompt: "hello" },
          maxTokens: 1000,
          stop: [],
          sampling: { temperature: 0 },
          reportProgress: false,
          priority,
        };
        try {
          for await (const event of queue.generate(request, { signal })) void event;
        } catch {
          // The running request is cancelled on purpose; the others are cancelled at the end.
        }
      })();
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const running = run("running", "normal", controllers[0]!.signal);
    await time.advanceAsync(2_000);
    const low = run("low", "low", controllers[1]!.signal);
    await time.advanceAsync(10_000);
    step(time, stepMs);
    await time.advanceAsync(55_000);
    const high = run("high", "high", controllers[2]!.signal);
    await time.advanceAsync(1_000);
    controllers[0]!.abort();
    await time.advanceAsync(2_000);
    expect(started).toEqual(["running", "low"]);
    for (const controller of controllers) controller.abort();
    await settle(time, Promise.all([running, low, high]), { stepMs: 100 });
  });

  it("a hanging health check fails at its deadline, measured on the monotonic clock", async () => {
    const time = newTime();
    let isSettled = false;
    const round = runHealthChecks({
      probes: { front: () => new Promise<void>(() => undefined) },
      runners: undefined,
      time,
      deadlineMs: 5_000,
    }).finally(() => (isSettled = true));
    await time.advanceAsync(1_000);
    step(time, stepMs);
    await time.advanceAsync(3_999);
    expect(isSettled).toBe(false);
    await time.advanceAsync(1);
    const [front] = await round;
    expect(front).toMatchObject({ name: "front", status: "fail" });
  });

  it("an auth-failure rate limit window neither ends early nor lasts longer", () => {
    const time = newTime();
    const limiter = new AuthRateLimiter({ maxFailures: 3, windowMs: minuteMs, time });
    for (let index = 0; index < 3; index += 1) limiter.recordFailure("10.0.0.1");
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBe(60);
    step(time, stepMs);
    time.advance(30_000);
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBe(30);
    time.advance(30_000);
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBeUndefined();
  });

  it("the backup schedule keeps its RPO: the incremental runs 15 minutes after the last, no missed backups", async () => {
    const time = newTime();
    const events = new EventBus();
    const missed: ServerEvents["backup-missed"][] = [];
    events.on("backup-missed", (event) => missed.push(event));
    const createdAtMonotonic: number[] = [];
    const fullAtMs = time.wallNow();
    const manager = {
      list: async () => [
        { id: "f", kind: "full" as const, parent: null, createdAtMs: fullAtMs, status: "complete" as const },
      ],
      create: async (kind: string) => {
        createdAtMonotonic.push(time.monotonicNow());
        return { id: `b${createdAtMonotonic.length}`, kind, storedBytes: 0, durationMs: 0 };
      },
      prune: async () => ({ kept: [], deleted: [], chunksDeleted: 0, bytesFreed: 0, dryRun: false }),
      verify: async () => ({ ok: true, readData: false, points: [], chunksChecked: 0, problems: [] }),
    } as unknown as BackupManager;
    const schedule = new BackupSchedule({
      manager,
      time,
      intervalsMs: { full: 0, differential: 0, incremental: 15 * minuteMs },
      events,
      logger: silentLogger,
      // No incremental yet: the first one 15 minutes after start.
      initialDelayMs: 15 * minuteMs,
    });
    cleanups.push(() => schedule.close());
    const startMs = time.monotonicNow();
    await schedule.start();
    await time.advanceAsync(5 * minuteMs);
    step(time, stepMs);
    await time.advanceAsync(10 * minuteMs - 1);
    expect(createdAtMonotonic).toEqual([]);
    await time.advanceAsync(1);
    await schedule.idle();
    step(time, -stepMs);
    await time.advanceAsync(15 * minuteMs);
    await schedule.idle();
    expect(createdAtMonotonic.map((at) => at - startMs)).toEqual([15 * minuteMs, 30 * minuteMs]);
    expect(missed).toEqual([]);
  });
});

function slaSetUp(time: FakeTime, probes: SlaProbes, given?: Database) {
  const { manager, incidents, database } = startTestSlaManager({ time, probes, cleanups, database: given });
  /** The month's report as of `nowMs` (what follows the last heartbeat counts as not running). */
  const report = (nowMs: number) => buildReport({ database, month: "2026-04", targetPercent: 99.9, nowMs });
  return { manager, incidents, report };
}

describe("the SLA across wall-clock steps", () => {
  it("−1 h: uptime is what the monitor watched (120 s up), nothing unknown, intervals never overlap", async () => {
    const time = newTime();
    const { manager, report } = slaSetUp(time, { front: () => Promise.resolve() });
    const startMs = time.wallNow();
    manager.start();
    await time.advanceAsync(60_000);
    step(time, -hourMs);
    await time.advanceAsync(60_000);
    await manager.close();
    // The steady clock ends 120 s after the start, wherever the wall clock is.
    expect(report(startMs + 120_000).seconds).toMatchObject({ up: 120, unknown: 0, down: 0, measured: 120 });
  });

  it("−1 h across a restart: the new run carries on from the last heartbeat, never overlapping it", async () => {
    const time = newTime();
    const database = Database.open({ path: ":memory:" });
    cleanups.push(() => database.close());
    const startMs = time.wallNow();
    const first = slaSetUp(time, { front: () => Promise.resolve() }, database);
    first.manager.start();
    await time.advanceAsync(60_000);
    await first.manager.close();
    step(time, -hourMs);
    const second = slaSetUp(time, { front: () => Promise.resolve() }, database);
    second.manager.start();
    await time.advanceAsync(60_000);
    await second.manager.close();
    expect(second.report(startMs + 120_000).seconds).toMatchObject({ up: 120, unknown: 0, measured: 120 });
  });

  it("−1 h inside an incident: its duration is the monotonic time it lasted", async () => {
    const time = newTime();
    let isFailing = false;
    const { manager, incidents } = slaSetUp(time, {
      front: () => (isFailing ? Promise.reject(new Error("front down")) : Promise.resolve()),
    });
    manager.start();
    await time.advanceAsync(20_000);
    isFailing = true;
    await time.advanceAsync(10_000);
    step(time, -hourMs);
    await time.advanceAsync(30_000);
    isFailing = false;
    await time.advanceAsync(10_000);
    await manager.close();
    const closed = incidents.find((incident) => incident.action === "closed");
    expect(closed).toBeDefined();
    expect(closed!.endMs! - closed!.startMs).toBe(40_000);
  });

  it("+1 day: the day the monitor did not see on its own clock is unknown (as a sleeping machine), never up", async () => {
    const time = newTime();
    const { manager, report } = slaSetUp(time, { front: () => Promise.resolve() });
    manager.start();
    await time.advanceAsync(60_000);
    step(time, dayMs);
    await time.advanceAsync(60_000);
    await manager.close();
    const seconds = report(time.wallNow()).seconds;
    expect(seconds.down).toBe(0);
    expect(seconds.up).toBeLessThanOrEqual(120);
    expect(seconds.up).toBeGreaterThanOrEqual(110);
    expect(seconds.up + seconds.unknown).toBe(seconds.measured);
    expect(seconds.unknown).toBeGreaterThanOrEqual(dayMs / 1000);
    expect(seconds.measured).toBeLessThanOrEqual(dayMs / 1000 + 120);
  });
});

function metricsSetUp(time: FakeTime) {
  const events = new EventBus((error) => {
    throw error;
  });
  const collector = new MetricsCollector({
    events,
    logger: silentLogger,
    settings: {
      intervalMs: 5000,
      requestLogSize: 50,
      retentionMs: dayMs,
      warnings: {
        windowMs: 60_000,
        forMs: 30_000,
        minRequests: 3,
        decodeTokensPerSecond: 0,
        timeToFirstTokenP95Ms: 0,
        queueP95Ms: 0,
        memoryPercent: 90,
        eventLoopLagMs: 0,
      },
    },
    time,
    schedule: "manual",
  });
  collector.start();
  cleanups.push(() => collector.close());
  let sequence = 0;
  const finish = (count: number): void => {
    for (let index = 0; index < count; index += 1) {
      const requestId = `r${sequence++}`;
      events.emit("request-queued", { requestId, model: "alpha", priority: "normal" });
      events.emit("request-end", {
        requestId,
        model: "alpha",
        priority: "normal",
        outcome: "stop",
        promptTokens: 5,
        completionTokens: 5,
        totalMs: 100,
        queueMs: 1,
        timeToFirstTokenMs: 20,
        promptMs: 19,
        decodeMs: 80,
        preemptions: 0,
      });
    }
  };
  const counts = (): number[] =>
    ["1m", "5m", "1h", "start"].map((window) => collector.snapshot(window).overall.requests);
  return { finish, counts };
}

describe("metrics windows across wall-clock steps", () => {
  it("−1 h: the live windows keep sliding on from where they were; nothing is hidden or lost", () => {
    const time = newTime();
    const { finish, counts } = metricsSetUp(time);
    finish(3);
    time.advance(10_000);
    step(time, -hourMs);
    finish(2);
    expect(counts()).toEqual([5, 5, 5, 5]);
    time.advance(60_000);
    expect(counts()).toEqual([0, 5, 5, 5]);
    time.advance(hourMs);
    expect(counts()).toEqual([0, 0, 0, 5]);
  });

  it("+1 day: the windows follow the wall clock (a day-old request is out of every live window)", () => {
    const time = newTime();
    const { finish, counts } = metricsSetUp(time);
    finish(3);
    step(time, dayMs);
    finish(2);
    expect(counts()).toEqual([2, 2, 2, 5]);
  });
});
