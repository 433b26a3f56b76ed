import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventBus, FakeTime, silentLogger, type Priority, type ServerEvents } from "../../core/index.js";
import { Database } from "../../store/index.js";
import { MetricsCollector, type MetricsSettings } from "./metrics-collector.js";
import { exactQuantile, relativeAccuracy } from "./quantile-sketch.js";

/** A whole hour, so minute and window slots line up with the test's arithmetic. */
const startMs = Date.UTC(2026, 0, 1, 12, 0, 0);

const settings: MetricsSettings = {
  intervalMs: 5000,
  requestLogSize: 50,
  retentionMs: 24 * 3_600_000,
  warnings: {
    windowMs: 60_000,
    forMs: 30_000,
    minRequests: 3,
    decodeTokensPerSecond: 50,
    timeToFirstTokenP95Ms: 0,
    queueP95Ms: 0,
    memoryPercent: 90,
    eventLoopLagMs: 0,
  },
};

function setup(options: { database?: Database; settings?: MetricsSettings; nowMs?: number } = {}) {
  const time = new FakeTime({ wallMs: options.nowMs ?? startMs });
  const events = new EventBus((error) => {
    throw error;
  });
  const warnings: ServerEvents["performance-warning"][] = [];
  events.on("performance-warning", (event) => warnings.push(event));
  const collector = new MetricsCollector({
    events,
    logger: silentLogger,
    settings: options.settings ?? settings,
    time,
    database: options.database,
    schedule: "manual",
  });
  collector.start();
  let sequence = 0;
  /** One finished request: queue wait and TTFT as given, `tokens` decoded at `tokensPerSecond`. */
  const finish = (fields: {
    model?: string;
    priority?: Priority;
    queueMs?: number;
    ttftMs?: number;
    tokens?: number;
    tokensPerSecond?: number;
    outcome?: ServerEvents["request-end"]["outcome"];
    errorCode?: string;
  }) => {
    const model = fields.model ?? "alpha";
    const priority = fields.priority ?? "normal";
    const requestId = `r${sequence++}`;
    const tokens = fields.tokens ?? 11;
    const decodeMs = ((tokens - 1) * 1000) / (fields.tokensPerSecond ?? 100);
    const ttftMs = fields.ttftMs ?? 50;
    const queueMs = fields.queueMs ?? 5;
    if (fields.outcome !== "rejected") events.emit("request-queued", { requestId, model, priority });
    const served = fields.outcome !== "rejected";
    events.emit("request-end", {
      requestId,
      model,
      priority,
      outcome: fields.outcome ?? "stop",
      ...(fields.errorCode === undefined ? {} : { errorCode: fields.errorCode }),
      promptTokens: served ? 20 : 0,
      completionTokens: served ? tokens : 0,
      cachedTokens: served ? 4 : undefined,
      totalMs: served ? ttftMs + decodeMs : 1,
      queueMs: served ? queueMs : undefined,
      timeToFirstTokenMs: served ? ttftMs : undefined,
      promptMs: served ? ttftMs - queueMs : undefined,
      decodeMs: served ? decodeMs : undefined,
      preemptions: 0,
    });
  };
  /** Moves fake time on until the wall clock reads `wallMs`. */
  const advanceTo = (wallMs: number) => time.advance(wallMs - time.wallNow());
  return { time, advanceTo, events, collector, finish, warnings };
}

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

describe("MetricsCollector windows", () => {
  it("slides 1m, 5m and 1h windows on a fake clock and keeps since-start", () => {
    const { time, collector, finish } = setup();
    for (let index = 0; index < 3; index++) finish({ priority: "high" });
    time.advance(2 * 60_000);
    for (let index = 0; index < 2; index++) finish({ priority: "low" });
    const counts = () =>
      ["1m", "5m", "1h", "start"].map((window) => collector.snapshot(window).overall.requests);
    expect(counts()).toEqual([2, 5, 5, 5]);
    time.advance(4 * 60_000);
    expect(counts()).toEqual([0, 2, 5, 5]);
    time.advance(60 * 60_000);
    expect(counts()).toEqual([0, 0, 0, 5]);
  });

  it("gives per-model and per-priority percentiles within 1% of the exact ones", () => {
    const { collector, finish } = setup();
    const exact = new Map<string, number[]>();
    let seed = 7;
    const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let index = 0; index < 600; index++) {
      const model = index % 3 === 0 ? "beta" : "alpha";
      const priority: Priority = (["high", "normal", "low"] as const)[
        index % 3 === 1 ? 0 : index % 2 === 0 ? 1 : 2
      ];
      const ttftMs = Math.exp(2 + next() * 5);
      finish({ model, priority, ttftMs, queueMs: ttftMs / 3 });
      for (const key of [`${model}/${priority}`, `${model}/*`, `*/${priority}`, "*/*"])
        exact.set(key, [...(exact.get(key) ?? []), ttftMs]);
    }
    const snapshot = collector.snapshot("5m");
    const views: Record<
      string,
      | {
          stats: {
            time_to_first_token_ms: {
              count: number;
              p50: number | null;
              p95: number | null;
              p99: number | null;
            };
          };
        }
      | undefined
    > = {
      "*/*": { stats: snapshot.overall.stats },
    };
    for (const [model, view] of Object.entries(snapshot.models)) {
      views[`${model}/*`] = view;
      for (const [priority, leaf] of Object.entries(view.priorities)) views[`${model}/${priority}`] = leaf;
    }
    for (const [priority, view] of Object.entries(snapshot.priorities)) views[`*/${priority}`] = view;
    expect(Object.keys(views).sort()).toEqual([...exact.keys()].sort());
    for (const [key, values] of exact) {
      const sorted = [...values].sort((a, b) => a - b);
      const stats = views[key]!.stats.time_to_first_token_ms;
      expect(stats.count).toBe(values.length);
      for (const [q, estimate] of [
        [0.5, stats.p50],
        [0.95, stats.p95],
        [0.99, stats.p99],
      ] as const) {
        const truth = exactQuantile(sorted, q)!;
        expect(Math.abs(estimate! - truth)).toBeLessThanOrEqual(truth * relativeAccuracy);
      }
    }
  });

  it("derives decode rate and inter-token latency per request, and counts outcomes", () => {
    const { collector, finish } = setup();
    finish({ tokens: 11, tokensPerSecond: 40 });
    finish({ outcome: "rejected", errorCode: "queue-full" });
    finish({ outcome: "error", errorCode: "runner-crashed" });
    const overall = collector.snapshot("1m").overall;
    expect(overall.requests).toBe(3);
    expect(overall.outcomes).toEqual({ stop: 1, rejected: 1, error: 1 });
    expect(overall.errors).toEqual({ "queue-full": 1, "runner-crashed": 1 });
    expect(overall.stats.total_ms.count).toBe(2);
    expect(overall.stats.decode_tokens_per_second.p50).toBeCloseTo(40, 0);
    expect(overall.stats.inter_token_latency_ms.count).toBe(2);
    expect(overall.stats.prompt_tokens_per_second.p50).toBeCloseTo(16 / 0.045, -1);
    expect(overall.tokens).toEqual({ prompt: 40, completion: 22, cached: 8, drafted: 0, accepted: 0 });
  });

  it("labels models it never saw admitted as (unknown), so clients cannot add series", async () => {
    const { events, collector } = setup();
    events.emit("request-end", {
      requestId: "x",
      model: "made-up-name-123",
      outcome: "error",
      errorCode: "model-not-found",
      promptTokens: 0,
      completionTokens: 0,
      totalMs: 1,
      priority: "normal",
    });
    expect(Object.keys(collector.snapshot("1m").models)).toEqual(["(unknown)"]);
    expect(collector.snapshot("1m").overall.stats.total_ms.count).toBe(0);
    expect(await collector.prometheusText()).not.toContain("made-up-name-123");
  });
});

describe("MetricsCollector time", () => {
  it("aggregates on its own timer on the time port and stops it on close", () => {
    const time = new FakeTime({ wallMs: startMs });
    const events = new EventBus();
    const seen: string[] = [];
    events.on("performance-warning", (event) => seen.push(`${event.rule}:${event.state}`));
    const collector = new MetricsCollector({ events, logger: silentLogger, settings, time });
    collector.start();
    events.emit("request-queued", { requestId: "q", model: "alpha", priority: "normal" });
    events.emit("runner-crashed", { model: "alpha", pid: 1234, detail: "signal SIGKILL" });
    time.advance(settings.intervalMs - 1);
    expect(seen).toEqual([]);
    time.advance(1);
    expect(seen).toEqual(["runner-restart:start"]);
    collector.close();
    expect(time.pendingTimers).toBe(0);
  });

  it("measures uptime on the monotonic clock and windows on the wall clock", () => {
    const { time, collector, finish } = setup();
    finish({});
    time.advance(30_000);
    // The wall clock steps an hour ahead (NTP, a suspended VM): the request leaves the 1m
    // window, but the server has not been up an hour longer.
    time.setWall(time.wallNow() + 3_600_000);
    expect(collector.serverSnapshot().uptimeMs).toBe(30_000);
    expect(collector.snapshot("1m").overall.requests).toBe(0);
    expect(collector.snapshot("start").overall.requests).toBe(1);
  });
});

describe("MetricsCollector warnings", () => {
  it("raises a slow-decode warning once and clears it once on a fake clock", () => {
    const { advanceTo, collector, finish, warnings } = setup();
    const tickAt = (seconds: number) => {
      advanceTo(startMs + seconds * 1000);
      collector.tick();
    };
    for (let index = 0; index < 3; index++) finish({ tokensPerSecond: 20 });
    tickAt(0);
    tickAt(10);
    expect(warnings).toEqual([]);
    tickAt(31);
    expect(warnings.map((warning) => warning.state)).toEqual(["start"]);
    expect(warnings[0]).toMatchObject({ rule: "decode-speed", model: "alpha", threshold: 50 });
    expect(collector.warnings().active).toHaveLength(1);
    // Inside the hysteresis band (50–55 tokens/s) after the slow requests left the window.
    advanceTo(startMs + 70_000);
    for (let index = 0; index < 3; index++) finish({ tokensPerSecond: 52 });
    for (const second of [71, 80, 90, 100, 110]) tickAt(second);
    expect(warnings).toHaveLength(1);
    advanceTo(startMs + 140_000);
    for (let index = 0; index < 3; index++) finish({ tokensPerSecond: 90 });
    tickAt(141);
    tickAt(160);
    expect(warnings).toHaveLength(1);
    tickAt(172);
    expect(warnings.map((warning) => warning.state)).toEqual(["start", "clear"]);
    expect(collector.warnings()).toMatchObject({
      active: [],
      recent: [{ state: "cleared" }, { state: "active" }],
    });
  });

  it("warns at once when a runner crashes and clears when the window has none", () => {
    const { time, events, collector, warnings } = setup();
    events.emit("request-queued", { requestId: "q", model: "alpha", priority: "normal" });
    events.emit("runner-crashed", { model: "alpha", pid: 1234, detail: "signal SIGKILL" });
    collector.tick();
    expect(warnings.map((warning) => [warning.rule, warning.state])).toEqual([["runner-restart", "start"]]);
    time.advance(61_000);
    collector.tick();
    expect(warnings.map((warning) => warning.state)).toEqual(["start", "clear"]);
    expect(collector.serverSnapshot().runnerRestarts).toEqual({ alpha: 1 });
  });

  it("warns when runner memory nears the budget", () => {
    const time = new FakeTime({ wallMs: startMs });
    const events = new EventBus();
    const seen: string[] = [];
    events.on("performance-warning", (event) => seen.push(`${event.rule}:${event.state}`));
    let memoryBytes = 95;
    const collector = new MetricsCollector({
      events,
      logger: silentLogger,
      settings: { ...settings, warnings: { ...settings.warnings, forMs: 0 } },
      time,
      schedule: "manual",
      serverState: () => ({
        loadedModels: [{ model: "alpha", pid: undefined, memoryBytes }],
        queue: [],
        memoryBudgetBytes: 100,
      }),
    });
    collector.start();
    collector.tick();
    memoryBytes = 85;
    collector.tick();
    memoryBytes = 50;
    collector.tick();
    expect(seen).toEqual(["memory:start", "memory:clear"]);
    collector.close();
  });
});

describe("MetricsCollector persistence", () => {
  it("keeps rollups and the request log across a reopen, and prunes past retention", () => {
    const home = mkdtempSync(join(tmpdir(), "rawrxd-metrics-"));
    homes.push(home);
    const path = join(home, "rawrxd.db");
    const first = setup({ database: Database.open({ path }) });
    for (let index = 0; index < 4; index++)
      first.finish({ model: "alpha", priority: "high", ttftMs: 10 * (index + 1) });
    first.time.advance(90_000);
    first.finish({ model: "beta", priority: "low" });
    first.collector.tick();
    const before = first.collector.snapshot("1h");
    first.collector.close();

    const reopened = Database.open({ path });
    const second = setup({ database: reopened, nowMs: first.time.wallNow() + 5 * 60_000 });
    const after = second.collector.snapshot("1h");
    expect(after.overall.requests).toBe(5);
    expect(after.models["alpha"]?.priorities["high"]?.stats.time_to_first_token_ms).toEqual(
      before.models["alpha"]?.priorities["high"]?.stats.time_to_first_token_ms,
    );
    expect(second.collector.snapshot("24h")).toMatchObject({ source: "rollups", overall: { requests: 5 } });
    expect(second.collector.snapshot("start").overall.requests).toBe(0);
    expect(second.collector.requests().map((record) => record.model)).toEqual([
      "alpha",
      "alpha",
      "alpha",
      "alpha",
      "beta",
    ]);
    const minutes = second.collector
      .history("1h")
      .map((row) => [
        new Date(row.minuteMs).toISOString().slice(11, 16),
        row.model,
        row.priority,
        row.stats.requests,
      ]);
    expect(minutes).toEqual([
      ["12:00", "alpha", "high", 4],
      ["12:01", "beta", "low", 1],
    ]);
    // A new request in the same process adds to the history; a day later it is all pruned.
    second.finish({ model: "alpha" });
    expect(second.collector.snapshot("24h").overall.requests).toBe(6);
    second.time.advance(25 * 3_600_000);
    second.collector.tick();
    expect(second.collector.history("24h")).toEqual([]);
    second.collector.close();
    reopened.close();
  });

  it("trims the request log to its size", () => {
    const { collector, finish } = setup({ database: Database.open({ path: ":memory:" }) });
    for (let index = 0; index < 120; index++) finish({});
    collector.tick();
    expect(collector.requests()).toHaveLength(50);
    expect(collector.requests(5).map((record) => record.requestId)).toEqual([
      "r115",
      "r116",
      "r117",
      "r118",
      "r119",
    ]);
  });

  it("refuses a history window without a database or beyond retention", () => {
    expect(() => setup().collector.snapshot("24h")).toThrow(/needs the state database/);
    const { collector } = setup({ database: Database.open({ path: ":memory:" }) });
    expect(() => collector.snapshot("7d")).toThrow(/longer than the 24h of history/);
    expect(() => collector.snapshot("10s")).toThrow(/window must be 1m, 5m, 1h, start/);
  });
});

describe("MetricsCollector Prometheus", () => {
  it("exposes histograms whose counts match the since-start JSON", async () => {
    const { collector, finish } = setup();
    for (let index = 0; index < 7; index++)
      finish({ model: index < 4 ? "alpha" : "beta", priority: index % 2 === 0 ? "high" : "low" });
    finish({ outcome: "rejected", errorCode: "queue-full" });
    const text = await collector.prometheusText();
    const snapshot = collector.snapshot("start");
    for (const [model, view] of Object.entries(snapshot.models)) {
      for (const [priority, leaf] of Object.entries(view.priorities)) {
        const count = new RegExp(
          `^rawrxd_time_to_first_token_seconds_count\\{model="${model}",priority="${priority}"\\} (\\d+)$`,
          "m",
        ).exec(text)?.[1];
        expect(Number(count ?? 0)).toBe(leaf.stats.time_to_first_token_ms.count);
      }
    }
    expect(text).toMatch(/^rawrxd_requests_total\{model="alpha",priority="normal",outcome="rejected"\} 1$/m);
    expect(text).toMatch(/^# TYPE rawrxd_inter_token_latency_seconds histogram$/m);
  });
});

describe("MetricsCollector on a cluster node", () => {
  it("labels its /metrics series with the node id it was given", async () => {
    const time = new FakeTime({ wallMs: startMs });
    const collector = new MetricsCollector({
      events: new EventBus(),
      logger: silentLogger,
      settings,
      time,
      schedule: "manual",
      nodeId: "node-b",
    });
    collector.start();
    const text = await collector.prometheusText();
    expect(text).toMatch(/^rawrxd_models_loaded\{node="node-b"\} 0$/m);
    collector.close();
  });
});
