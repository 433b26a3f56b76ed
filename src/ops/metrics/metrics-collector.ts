/**
 * MetricsCollector: subscribes to the serving path's events and keeps request timing, token
 * rates and server state. The hot path (an event listener) only appends a plain record;
 * every `intervalMs` (and before any read) the records are aggregated into the sliding
 * windows, the Prometheus families and the request log, persisted, and the warning rules run.
 */
import {
  addWall,
  AppError,
  systemTime,
  type EventBus,
  type Logger,
  type MonotonicMs,
  type ServerEvents,
  type TimePort,
  type Timer,
  type WallMs,
} from "../../core/index.js";
import type { Database } from "../../store/index.js";
import { ClusterGauges } from "./cluster-metrics.js";
import { MetricsHistory, type RollupRow } from "./metrics-history.js";
import {
  describeServer,
  groupSeries,
  mergeByModel,
  type MetricsSnapshot,
  type ServerSnapshot,
} from "./metrics-snapshot.js";
import {
  liveWindows,
  mergeRollups,
  MetricsWindows,
  minuteFloor,
  minuteMs,
  parseRange,
  rollupRows,
  type LiveWindowName,
} from "./metrics-windows.js";
import { buildChecks, type WarningSettings } from "./performance-rules.js";
import { PrometheusMetrics } from "./prometheus-metrics.js";
import { recordFromEvent, type RequestRecord } from "./request-record.js";
import { EventLoopLagSampler, type EventLoopLagReader } from "./event-loop-lag.js";
import { emptyServerState, type EventLoopLag, type ServerStateProvider } from "./server-state.js";
import { WarningTracker, type PerformanceWarning } from "./warning-rules.js";

export interface MetricsSettings {
  /** How often records are aggregated and persisted and the rules evaluated, ms. */
  intervalMs: number;
  /** Finished requests kept in the request log (memory and database). */
  requestLogSize: number;
  /** How long per-minute rollups are kept, ms. */
  retentionMs: number;
  warnings: WarningSettings;
}

export interface MetricsCollectorOptions {
  events: EventBus;
  logger: Logger;
  settings: MetricsSettings;
  /**
   * Windows, rollup minutes and timestamps read its wall clock (rollups are calendar minutes);
   * uptime reads its monotonic clock; the aggregation timer runs on it. Default `systemTime`.
   */
  time?: TimePort;
  /** Persists the request log and rollups; memory only without one. */
  database?: Database | undefined;
  /** The scheduler's view, from src/app. */
  serverState?: ServerStateProvider;
  /** "manual": no timer, tests call tick(). Default "timer". */
  schedule?: "timer" | "manual";
  /** A cluster node's id: every /metrics series gets a `node` label. Undefined: single node, none. */
  nodeId?: string | undefined;
  /**
   * A reader of the server's one event-loop lag sampler (src/app shares it with the SLA
   * monitor, ADR 0043). Absent: the collector samples on its own while started.
   */
  eventLoopLag?: EventLoopLagReader | undefined;
}

/** Distinct model labels; later names are reported as "(other)" so a client cannot grow them. */
const maxModelLabels = 100;
/** Records waiting for a tick before one is forced (a stalled timer must not grow memory). */
const maxPendingRecords = 10_000;
const unknownModel = "(unknown)";
const otherModel = "(other)";

export class MetricsCollector {
  readonly prometheus: PrometheusMetrics;
  readonly #options: MetricsCollectorOptions;
  readonly #time: TimePort;
  readonly #serverState: ServerStateProvider;
  readonly #history: MetricsHistory | undefined;
  readonly #startedAtMs: WallMs;
  readonly #startedMonotonicMs: MonotonicMs;
  /** The last wall reading that moved the clock forward, with its monotonic reading: see #nowMs. */
  #anchor: { wallMs: WallMs; monotonicMs: MonotonicMs };
  #pending: RequestRecord[] = [];
  readonly #knownModels = new Set<string>();
  readonly #windows: MetricsWindows;
  #requestLog: RequestRecord[] = [];
  #unsaved: RequestRecord[] = [];
  readonly #crashes: { model: string; atMs: WallMs }[] = [];
  readonly #restartsByModel = new Map<string, number>();
  readonly #tracker: WarningTracker;
  /** Its own sampler when no shared reader was given. */
  readonly #ownLagSampler: EventLoopLagSampler | undefined;
  readonly #lagReader: EventLoopLagReader;
  /** Registered on the first scrape with a cluster in the server state. */
  #clusterGauges: ClusterGauges | undefined;
  #lastLag: EventLoopLag | undefined;
  #lastPruneMinute = -1;
  #timer: Timer | undefined;
  #unsubscribe: (() => void)[] = [];
  #isClosed = false;

  constructor(options: MetricsCollectorOptions) {
    this.#options = options;
    this.prometheus = new PrometheusMetrics({ nodeId: options.nodeId });
    this.#time = options.time ?? systemTime;
    this.#serverState = options.serverState ?? emptyServerState;
    this.#history = options.database === undefined ? undefined : new MetricsHistory(options.database);
    this.#startedAtMs = this.#time.wallNow();
    this.#startedMonotonicMs = this.#time.monotonicNow();
    this.#anchor = { wallMs: this.#startedAtMs, monotonicMs: this.#startedMonotonicMs };
    this.#windows = new MetricsWindows({ ruleWindowMs: options.settings.warnings.windowMs });
    this.#tracker = new WarningTracker({ forMs: options.settings.warnings.forMs });
    if (options.eventLoopLag === undefined) this.#ownLagSampler = new EventLoopLagSampler();
    this.#lagReader = options.eventLoopLag ?? this.#ownLagSampler!.reader();
  }

  /** Restores the last hour and the request log from the database, subscribes, starts the timer. */
  start(): void {
    if (this.#isClosed) throw new AppError("internal", "The metrics collector was closed.");
    if (this.#unsubscribe.length > 0) return;
    this.#restore();
    const { events } = this.#options;
    this.#unsubscribe = [
      events.on("request-queued", this.#rememberModel),
      events.on("request-end", this.#onRequestEnd),
      events.on("model-load-start", this.#rememberModel),
      events.on("model-load-end", this.#onModelLoadEnd),
      events.on("runner-crashed", this.#onRunnerCrashed),
    ];
    this.#ownLagSampler?.start();
    if (this.#options.schedule !== "manual") {
      this.#timer = this.#time.setInterval(() => this.tick(), this.#options.settings.intervalMs).unref();
    }
  }

  // The hot path: one object and one push per request (bench/metrics/metrics-overhead.ts measures it).
  readonly #onRequestEnd = (event: ServerEvents["request-end"]): void => {
    this.#pending.push(recordFromEvent(event, this.#nowMs()));
    if (this.#pending.length >= maxPendingRecords) this.flush();
  };

  /** Names the scheduler admitted or loaded (they resolved to a file) may become label values. */
  readonly #rememberModel = (event: { model: string }): void => {
    if (this.#knownModels.size < maxModelLabels) this.#knownModels.add(event.model);
  };

  readonly #onModelLoadEnd = (event: ServerEvents["model-load-end"]): void => {
    this.prometheus.observeModelLoad(this.#labelOf(event.model), { ms: event.ms, isOk: event.ok });
  };

  readonly #onRunnerCrashed = (event: ServerEvents["runner-crashed"]): void => {
    const model = this.#labelOf(event.model);
    this.#crashes.push({ model, atMs: this.#nowMs() });
    if (this.#crashes.length > 1000) this.#crashes.shift();
    this.#restartsByModel.set(model, (this.#restartsByModel.get(model) ?? 0) + 1);
    this.prometheus.observeRestart(model);
  };

  /** Aggregates the records that arrived since the last flush. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const records = this.#pending;
    this.#pending = [];
    for (const record of records) {
      const model = this.#labelOf(record.model);
      const labelled = model === record.model ? record : { ...record, model };
      const values = this.#windows.add(labelled);
      this.prometheus.observe(labelled, model, values);
      this.#requestLog.push(labelled);
      if (this.#history !== undefined) this.#unsaved.push(labelled);
    }
    const size = this.#options.settings.requestLogSize;
    if (this.#requestLog.length > size * 2) this.#requestLog = this.#requestLog.slice(-size);
    if (this.#unsaved.length > size) this.#unsaved = this.#unsaved.slice(-size);
  }

  /** The periodic work: aggregate, sample the event loop, persist, evaluate the warning rules. */
  tick(): void {
    try {
      this.flush();
      this.#lastLag = this.#lagReader.take() ?? this.#lastLag;
      this.#persist({ isFinal: false });
      this.#evaluateWarnings();
    } catch (error) {
      this.#options.logger.error("Metrics aggregation failed", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /**
   * Statistics over a live window (1m, 5m, 1h), since the server started ("start"), or over
   * a longer range from the per-minute rollups ("24h", "7d"; needs the database).
   */
  snapshot(window: string): MetricsSnapshot {
    this.flush();
    const nowMs = this.#nowMs();
    const server = this.serverSnapshot();
    if (window === "start" || window === "all") {
      return {
        window: "start",
        fromMs: this.#startedAtMs,
        toMs: nowMs,
        source: "live",
        ...groupSeries(this.#windows.sinceStart),
        server,
      };
    }
    if (window in liveWindows) {
      const sliding = this.#windows.window(window as LiveWindowName);
      return {
        window,
        fromMs: sliding.startMs(nowMs),
        toMs: nowMs,
        source: "live",
        ...groupSeries(sliding.collect(nowMs)),
        server,
      };
    }
    const rangeMs = parseRange(window, "window");
    if (this.#history === undefined)
      throw new AppError(
        "bad-request",
        `window=${window} reads the per-minute history, which needs the state database; use 1m, 5m, 1h or start.`,
        { param: "window" },
      );
    if (rangeMs > this.#options.settings.retentionMs) {
      throw new AppError(
        "bad-request",
        `window=${window} is longer than the ${Math.round(this.#options.settings.retentionMs / 3_600_000)}h of history kept (--metrics-retention).`,
        { param: "window" },
      );
    }
    const fromMs = minuteFloor(addWall(nowMs, -rangeMs));
    return {
      window,
      fromMs,
      toMs: nowMs,
      source: "rollups",
      ...groupSeries(mergeRollups(this.rollups(fromMs))),
      server,
    };
  }

  /** Per-minute rollups over the last `range` ("90m", "24h", "7d"), the current minute included. */
  history(range: string): RollupRow[] {
    const rangeMs = parseRange(range, "since");
    return this.rollups(minuteFloor(addWall(this.#nowMs(), -rangeMs)));
  }

  /** Per-minute rollups since `sinceMs`, the current minute included (persisted first). */
  rollups(sinceMs: WallMs): RollupRow[] {
    this.flush();
    if (this.#history === undefined) return this.#windows.minutes(this.#nowMs(), sinceMs);
    this.#persist({ isFinal: true });
    return this.#history.loadRollups(sinceMs);
  }

  /** The last `limit` finished requests, oldest first. */
  requests(limit = this.#options.settings.requestLogSize): RequestRecord[] {
    this.flush();
    return this.#requestLog.slice(-Math.min(limit, this.#options.settings.requestLogSize));
  }

  warnings(): { active: PerformanceWarning[]; recent: PerformanceWarning[] } {
    return { active: this.#tracker.active(), recent: this.#tracker.recent() };
  }

  serverSnapshot(): ServerSnapshot {
    return describeServer(this.#serverState(), {
      uptimeMs: this.#time.monotonicNow() - this.#startedMonotonicMs,
      runnerRestarts: Object.fromEntries(this.#restartsByModel),
      eventLoopLag: this.#lastLag,
      activeWarnings: this.#tracker.active().length,
    });
  }

  /** The Prometheus text exposition (aggregates pending records and samples gauges first). */
  async prometheusText(): Promise<string> {
    this.flush();
    const server = this.serverSnapshot();
    this.prometheus.setGauges({
      queue: server.queue,
      loadedModels: server.loadedModels.length,
      runnerMemory: server.loadedModels.map((loaded) => ({
        model: this.#labelOf(loaded.model),
        residentBytes: loaded.residentBytes,
        reservedBytes: loaded.memoryBytes,
        plan: loaded.plan,
      })),
      computeBackend: server.computeBackend,
      processResidentBytes: server.processResidentBytes,
      eventLoopLag: server.eventLoopLag,
      activeWarnings: server.activeWarnings,
    });
    if (server.cluster !== undefined)
      (this.#clusterGauges ??= new ClusterGauges(this.prometheus.registry)).set(server.cluster);
    return this.prometheus.text();
  }

  /** Unsubscribes, stops the timer, aggregates and persists what is left. Idempotent. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.#timer?.cancel();
    this.#ownLagSampler?.stop();
    try {
      this.flush();
      this.#persist({ isFinal: true });
    } catch (error) {
      this.#options.logger.error("Saving metrics on shutdown failed", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * The time windows and rollups file records under: the wall clock, except that it never goes
   * back. After a step back (NTP, a hand-set date) it runs on from where it was with monotonic
   * time, so records are not filed an hour in the past, hidden from the live windows, or written
   * over the slots of the hour before. A step forward is followed.
   */
  #nowMs(): WallMs {
    const wallMs = this.#time.wallNow();
    const monotonicMs = this.#time.monotonicNow();
    const steadyMs = this.#anchor.wallMs + (monotonicMs - this.#anchor.monotonicMs);
    if (wallMs >= steadyMs) {
      this.#anchor = { wallMs, monotonicMs };
      return wallMs;
    }
    return steadyMs as WallMs;
  }

  #labelOf(model: string): string {
    if (this.#knownModels.has(model)) return model;
    return this.#knownModels.size >= maxModelLabels ? otherModel : unknownModel;
  }

  #restore(): void {
    if (this.#history === undefined) return;
    const nowMs = this.#nowMs();
    for (const row of this.#history.loadRollups(this.#windows.window("1h").startMs(nowMs))) {
      if (this.#knownModels.size < maxModelLabels) this.#knownModels.add(row.model);
      this.#windows.seedMinute(row);
    }
    this.#requestLog = this.#history.loadRequests(this.#options.settings.requestLogSize);
  }

  /** Writes new request-log rows and the minute rollups that changed (all of them when final). */
  #persist(options: { isFinal: boolean }): void {
    if (this.#history === undefined) return;
    const nowMs = this.#nowMs();
    const currentMinute = Math.floor(nowMs / minuteMs);
    const slots = this.#windows.dirtyMinutes(nowMs, options);
    const isPruneDue = currentMinute !== this.#lastPruneMinute;
    if (slots.length === 0 && this.#unsaved.length === 0 && !isPruneDue) return;
    const rollups = slots.flatMap(rollupRows);
    this.#history.persist({
      requests: this.#unsaved,
      rollups,
      keepRequests: this.#options.settings.requestLogSize,
      pruneBeforeMs: isPruneDue ? addWall(nowMs, -this.#options.settings.retentionMs) : undefined,
    });
    for (const slot of slots) slot.isDirty = false;
    this.#unsaved = [];
    this.#lastPruneMinute = currentMinute;
  }

  #evaluateWarnings(): void {
    const { settings, events, logger } = this.#options;
    const nowMs = this.#nowMs();
    const crashes = new Map<string, number>();
    for (const crash of this.#crashes) {
      if (crash.atMs > nowMs - settings.warnings.windowMs)
        crashes.set(crash.model, (crashes.get(crash.model) ?? 0) + 1);
    }
    const state = this.#serverState();
    const usedBytes = state.loadedModels.reduce(
      (sum, loaded) => sum + (loaded.residentBytes ?? loaded.memoryBytes),
      0,
    );
    const checks = buildChecks(settings.warnings, {
      models: mergeByModel(this.#windows.ruleWindow.collect(nowMs)),
      crashes,
      memory: state.memoryBudgetBytes > 0 ? { usedBytes, budgetBytes: state.memoryBudgetBytes } : undefined,
      eventLoopLagP99Ms: this.#lastLag?.p99Ms,
    });
    for (const { warning, state: transition } of this.#tracker.evaluate(checks, nowMs)) {
      if (transition === "start")
        logger.warn(`Performance warning: ${warning.message}`, {
          rule: warning.rule,
          model: warning.model,
          value: warning.value,
          threshold: warning.threshold,
        });
      else
        logger.info(
          `Performance warning cleared: ${warning.rule}${warning.model === undefined ? "" : ` (${warning.model})`}`,
          { rule: warning.rule, model: warning.model, value: warning.value },
        );
      events.emit("performance-warning", {
        rule: warning.rule,
        model: warning.model,
        state: transition,
        value: warning.value,
        threshold: warning.threshold,
        message: warning.message,
      });
    }
  }
}
