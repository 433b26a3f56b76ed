/**
 * Wires the SLA monitor (issue #13): its check ports (a loopback GET of our own /health, the
 * scheduler's loaded models and runner pids, an optional probe generation at high priority, free
 * disk under RAWRXD_HOME, event-loop delay), its routes and /metrics gauges. Ops may not import
 * the scheduler or the API, so every input is a function built here.
 */
import { statfs } from "node:fs/promises";
import type { Hono } from "hono";
import type { Registry } from "prom-client";
import type { Config } from "../config/index.js";
import { newRequestId, type EventBus, type Logger, type ServerEvents, type TimePort } from "../core/index.js";
import {
  AlertDispatch,
  buildReport,
  ClusterSla,
  registerClusterSlaMetrics,
  startClusterSlaTicks,
  type ClusterAdvert,
  type ClusterSlaTicks,
  createSlaRoutes,
  registerSlaMetrics,
  SlaManager,
  SlaStore,
  WebhookSink,
  ttftSlos,
  type EventLoopLagReader,
  type SlaProbes,
} from "../ops/index.js";
import type { Scheduler } from "../scheduler/index.js";
import type { Database } from "../store/index.js";

export interface SlaService {
  manager: SlaManager;
  routes(): Hono;
  /**
   * Starts the checks once the server listens at `url`. With `local`, most rounds check /health
   * in process (the listener is up and the app answers) and one real loopback GET goes out a
   * minute (ADR 0048).
   */
  start(url: string, local?: LocalFront): void;
  /** Final heartbeat and stop: before the HTTP front closes, so a stop is not recorded as down. */
  close(): Promise<void>;
}

/** The server itself, for the front check between real HTTP probes. */
export interface LocalFront {
  isListening: () => boolean;
  fetch: (request: Request) => Response | Promise<Response>;
}

/** A real loopback GET /health at least this often (and after any failed front check). */
export const frontHttpProbeEveryMs = 60_000;

export interface SlaWiringOptions {
  config: Readonly<Config>;
  database: Database;
  events: EventBus;
  logger: Logger;
  time: TimePort;
  queue: Scheduler;
  /** The metrics registry /metrics exposes; undefined with --no-metrics. */
  metricsRegistry: Registry | undefined;
  /** Further check inputs the server has (the backup state, see the TODO below). */
  extraProbes?: Pick<SlaProbes, "audit" | "backup">;
  /**
   * When clustered (issue #18): this node's id and the live nodes' adverts (the membership's
   * `nodeId` and `nodes()`). Adds the cluster SLA: `cluster` in GET /v1/sla/status, its gauges.
   */
  cluster?: { nodeId: string; nodes: () => Promise<readonly ClusterAdvert[]> } | undefined;
  /** A reader of the server's event-loop lag sampler; none: no event-loop check. */
  eventLoopLag?: EventLoopLagReader | undefined;
}

/** Undefined with --no-sla. */
export function createSlaService(options: SlaWiringOptions): SlaService | undefined {
  const { config, database, events, logger, time } = options;
  if (config.noSla) return undefined;
  const store = new SlaStore(database);
  let frontUrl: string | undefined;
  let local: LocalFront | undefined;
  let lastHttpPassMs = Number.NEGATIVE_INFINITY;
  let auditHealth: ServerEvents["audit-health"] = { state: "writable" };
  const stopAuditWatch = events.on("audit-health", (event) => (auditHealth = event));
  // The backup schedule's last outcome: undefined until the first backup ends or is missed.
  let backupState: { state: "ok" | "missed" | "failed"; reason?: string } | undefined;
  const stopBackupWatch = [
    events.on("backup-end", (event) => {
      if (!event.scheduled) return;
      backupState = event.ok
        ? { state: "ok" }
        : { state: "failed", reason: `${event.kind} backup ${event.id} failed: ${event.error ?? "unknown"}` };
    }),
    events.on("backup-missed", (event) => {
      backupState = { state: "missed", reason: `${event.kind} backup missed: ${event.reason}` };
    }),
  ];
  const probes: SlaProbes = {
    front: async (signal) => {
      if (frontUrl === undefined) throw new Error("the server is not listening yet");
      const url = `${frontUrl}/health`;
      const passedMs = lastHttpPassMs;
      const inProcess = time.monotonicNow() - passedMs < frontHttpProbeEveryMs ? local : undefined;
      const isHttpDue = inProcess === undefined;
      // Any failure makes the next round a real probe.
      lastHttpPassMs = Number.NEGATIVE_INFINITY;
      if (inProcess !== undefined && !inProcess.isListening())
        throw new Error(`the server no longer listens at ${frontUrl}`);
      // In process between real probes: no undici connection, no socket round trip on both sides.
      const response = isHttpDue
        ? await fetch(url, { signal })
        : await inProcess.fetch(new Request(url, { signal }));
      await response.body?.cancel();
      if (!response.ok) throw new Error(`GET /health answered HTTP ${response.status}`);
      lastHttpPassMs = isHttpDue ? time.monotonicNow() : passedMs;
    },
    loadedModels: () =>
      options.queue.snapshot().loaded.map((view) => ({ model: view.name, pid: view.info.pid })),
    isProcessAlive,
    ...(config.slaProbeModel === ""
      ? {}
      : {
          probe: {
            model: config.slaProbeModel,
            generate: probeGeneration(options.queue, config.slaProbeModel),
          },
        }),
    disk: async () => {
      const stats = await statfs(config.home);
      return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
    },
    // Delay p99 beyond the sampler's tick since the last round (the server's one sampler, ADR 0043).
    ...(options.eventLoopLag === undefined
      ? {}
      : { eventLoopLagMs: () => options.eventLoopLag?.take()?.p99Ms }),
    // The audit writer's last reported health (`audit-health`); none with --no-audit.
    ...(config.noAudit ? {} : { audit: () => auditHealth }),
    // The schedule's last outcome (backup-end / backup-missed); SlaManager alerts on its changes.
    ...(config.noBackup ? {} : { backup: () => backupState }),
    ...options.extraProbes,
  };
  const webhook =
    config.alertWebhook === ""
      ? undefined
      : new WebhookSink({ url: config.alertWebhook, time, logger, store });
  const settings = { intervalMs: config.healthIntervalMs, targetPercent: config.slaTargetPercent };
  const manager = new SlaManager({
    store,
    events,
    logger,
    time,
    settings,
    probes,
    alerts: new AlertDispatch({ events, logger, webhook }),
  });
  if (options.metricsRegistry !== undefined)
    registerSlaMetrics(options.metricsRegistry, () => manager.status());
  const clusterSla =
    options.cluster === undefined
      ? undefined
      : new ClusterSla({
          nodeId: options.cluster.nodeId,
          time,
          events,
          settings: { intervalMs: settings.intervalMs, pinnedModels: config.pinnedModels },
        });
  if (clusterSla !== undefined && options.metricsRegistry !== undefined)
    registerClusterSlaMetrics(options.metricsRegistry, () => clusterSla.json());
  let clusterTicks: ClusterSlaTicks | undefined;
  const latencySlos = ttftSlos(config.sloTtftP95Ms);
  return {
    manager,
    routes: () =>
      createSlaRoutes({
        status: () => manager.status(),
        incidents: (page) => store.incidents(page),
        report: (month) =>
          buildReport({
            database,
            month,
            targetPercent: settings.targetPercent,
            nowMs: manager.timelineNowMs(),
            latencySlos,
          }),
        nowMs: () => manager.timelineNowMs(),
        ...(clusterSla === undefined ? {} : { cluster: () => clusterSla.json() }),
      }),
    start: (url, localFront) => {
      frontUrl = loopbackUrl(url);
      local = localFront;
      manager.start();
      if (clusterSla !== undefined && options.cluster !== undefined)
        clusterTicks = startClusterSlaTicks({
          sla: clusterSla,
          time,
          logger,
          intervalMs: settings.intervalMs,
          nodes: options.cluster.nodes,
          localStatus: () => manager.status(),
        });
      logger.info("SLA monitor started", {
        intervalMs: settings.intervalMs,
        targetPercent: settings.targetPercent,
        probeModel: config.slaProbeModel === "" ? null : config.slaProbeModel,
        webhook: webhook !== undefined,
      });
    },
    close: async () => {
      await clusterTicks?.close();
      await manager.close();
      stopAuditWatch();
      for (const stop of stopBackupWatch) stop();
    },
  };
}

/** A wildcard listen address is reached on loopback. */
function loopbackUrl(url: string): string {
  return url.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:");
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A few tokens at high priority: the probe waits like a request would, but ahead of normal and
 * low traffic; past its deadline under load it counts as degraded, not down (health-checks.ts).
 */
function probeGeneration(queue: Scheduler, model: string): (signal: AbortSignal) => Promise<void> {
  return async (signal) => {
    const stream = queue.generate(
      {
        id: newRequestId("sla-probe"),
        model,
        input: { kind: "text", prompt: "Once upon a time" },
        maxTokens: 4,
        stop: [],
        sampling: { temperature: 0 },
        reportProgress: false,
        priority: "high",
        apiKeyId: "sla-probe",
      },
      { signal },
    );
    // Errors are thrown (runner-crashed, queue-full, …); the events themselves need no look.
    for await (const event of stream) void event;
  };
}
