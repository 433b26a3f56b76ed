/**
 * Composition root: builds the catalog, engine, queue and HTTP app from one Config, and owns
 * the start and stop order. Stop: with the port still open, refuse new work (ready and new
 * generations → 503), let running requests finish up to --shutdown-grace, end what remains with
 * a final error event, close the port, then end every runner process; the audit log closes last.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { callerIdentity, createApiApp, redactorFor, RequestDrain, withDirectStreams } from "../api/index.js";
import type { Config } from "../config/index.js";
import { createLogger, EventBus, priorities, systemTime, type Logger } from "../core/index.js";
import { LlamaCppEngine, type InferenceEngine } from "../engine/index.js";
import { readResidentMemorySync, systemProbes, type GpuProbes } from "../gpu/index.js";
import {
  createMetricsRoutes,
  EventLoopLagSampler,
  MetricsCollector,
  type MetricsSettings,
  type OpenSegmentFile,
  type ServerState,
} from "../ops/index.js";
import {
  availableMemoryBytes,
  createScheduler,
  memoryMarginBytes,
  type Scheduler,
} from "../scheduler/index.js";
import { Database, type SharedStore } from "../store/index.js";
import { startAuditService, type AuditService } from "./audit-wiring.js";
import { startBackupService } from "./backup-wiring.js";
import { createGpuRoutes, startGpuService } from "./gpu-routes.js";
import { plannedMemoryEstimate, runnerLoadPath, runnerTuningOf } from "./gpu-wiring.js";
import { guardModelFileChanges } from "./model-file-guard.js";
import { openModelCatalog, type ModelsSummary } from "./models-wiring.js";
import { createSlaService, type SlaService } from "./sla-wiring.js";
import { drainRequests, listen, stopHttp, streamFlushMs } from "./http-lifecycle.js";
import { sampleWhileServing } from "./lag-while-serving.js";
import { createModelRoutes } from "./model-routes.js";
import { checkExposure } from "./security.js";
import { createClusterFetch, isClusterPath } from "./cluster-routes.js";
import { checkClusterSettings, createClusterScheduler, joinCluster, nodeIdOf } from "./cluster-wiring.js";
import { openServerState } from "./store-wiring.js";
import { createWebRoutes } from "./web-routes.js";
import { openWorkspaceRoutes } from "./workspace-wiring.js";

export interface StartOptions {
  /** Defaults to LlamaCppEngine (real runner processes). Tests pass FakeEngine. */
  engine?: InferenceEngine;
  logger?: Logger;
  /** Install SIGINT/SIGTERM handlers that close the server. Default true. */
  handleSignals?: boolean;
  /** What GPU detection reads; tests pass fakeProbes(). Default: this machine. */
  gpuProbes?: GpuProbes;
  /** How audit segment files are opened; tests inject failing writers (fault injection). */
  openAuditSegmentFile?: OpenSegmentFile;
}

export interface RunningServer {
  url: string;
  port: number;
  events: EventBus;
  queue: Scheduler;
  /** Undefined with --no-metrics. */
  metrics: MetricsCollector | undefined;
  /** What --models offered at start, for the banner. */
  models: ModelsSummary;
  /** Undefined with --no-sla. */
  sla: SlaService | undefined;
  /** The shared PostgreSQL state; undefined without --store. */
  store: SharedStore | undefined;
  /** Every route the HTTP app serves (method and Hono path), so tests cover new routes automatically. */
  routes: readonly { method: string; path: string }[];
  /** Graceful stop; idempotent. */
  close(): Promise<void>;
  /** Settles once the server has stopped. */
  closed: Promise<void>;
}

const version = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export async function startServer(
  config: Readonly<Config>,
  options: StartOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const events = new EventBus((error, event) =>
    logger.error(`Event listener for ${event} failed`, { error: String(error) }),
  );
  // Before anything opens: a --gpu that names an unusable backend stops startup here.
  const gpu = await startGpuService(config.gpu, options.gpuProbes ?? systemProbes());
  logger.info("Compute backend", { chosen: gpu.initial.chosen, reason: gpu.initial.reason });
  const { catalog, summary: models } = await openModelCatalog(config, logger);
  // Start order: state database, then the ops that subscribe to events, then the serving path.
  const database = Database.open({ path: join(config.home, "rawrxd.db") });
  // What has opened so far: closed in reverse when a later step of the start fails.
  const opened: (() => unknown)[] = [() => database.close()];
  try {
    const nodeId = nodeIdOf(config);
    const state = await openServerState(config, database, { time: systemTime, logger, events, nodeId });
    const { keys, store } = state;
    opened.push(() => state.close());
    const warning = checkExposure(config, keys.hasActiveKeys());
    if (warning !== undefined) logger.warn(warning);
    // Before the serving path subscribes, so the first model load and request are on record.
    const audit: AuditService | undefined = await startAuditService({
      config,
      events,
      logger,
      time: systemTime,
      version,
      openSegmentFile: options.openAuditSegmentFile,
      nodeId,
    });
    opened.push(() => audit?.close("start-failed"));
    const loadPath = runnerLoadPath({
      engine: options.engine ?? new LlamaCppEngine({ logger }),
      tuning: runnerTuningOf(config),
      draftModel: config.draftModel,
      // Loading needs the validated header only; digests are for listings. A file changed on
      // disk since its runner loaded stops that runner first (model-file-guard.ts).
      resolve: guardModelFileChanges({
        resolve: (name) => catalog.resolveFile(name),
        unload: (name) => queue.unload(name),
        logger,
      }),
    });
    const estimateMemory = plannedMemoryEstimate({ config, report: () => gpu.initial });
    checkClusterSettings(config);
    const localQueue = createScheduler({
      engine: loadPath.engine,
      models: loadPath.models,
      events,
      time: systemTime,
      logger,
      contextTokens: config.contextTokens,
      parallel: config.parallel,
      threads: config.threads,
      gpu: gpu.initial.chosen,
      estimateMemory,
      loadTimeoutMs: config.loadTimeoutMs,
      maxLoadedModels: config.maxLoadedModels,
      maxQueued: config.maxQueued,
      maxQueuedPerModel: config.maxQueuedPerModel,
      queuePolicy: config.queuePolicy,
      agingStepMs: config.priorityAgingMs,
      // Preemption serves priorities: under FIFO it would only redo work.
      isPreemptionEnabled: !config.noPreemption,
      memoryBudgetBytes:
        config.memoryBudgetBytes >= 0
          ? config.memoryBudgetBytes
          : Math.max(0, availableMemoryBytes() - memoryMarginBytes),
      pinnedModels: config.pinnedModels,
      queueTimeoutMs: config.queueTimeoutMs,
      keepAliveMs: config.keepAliveMs,
    });
    // --cluster: the same interface over the shared queue in Redis (cluster-wiring.ts).
    const cluster = createClusterScheduler({
      config,
      local: localQueue,
      logger,
      version,
      estimateMemory: async (name) => estimateMemory(await catalog.resolveFile(name)).totalBytes,
      onRanElsewhere: (requestId) => audit?.ranElsewhere(requestId),
    });
    const queue = cluster ?? localQueue;
    opened.push(() => queue.close());
    // One event-loop lag sampler (one timer) for the metrics and the SLA monitor (ADR 0043).
    const lagSampler = new EventLoopLagSampler();
    const metrics = config.noMetrics
      ? undefined
      : new MetricsCollector({
          events,
          logger,
          database,
          time: systemTime,
          settings: metricsSettingsOf(config),
          // --cluster: this node's view of all nodes too (`cluster` in /v1/metrics, rawrxd_cluster_*).
          serverState: () => ({ ...serverStateOf(queue, gpu.initial.chosen), cluster: cluster?.metrics() }),
          nodeId,
          eventLoopLag: lagSampler.reader(),
        });
    metrics?.start();
    opened.push(() => metrics?.close());
    const sla = createSlaService({
      config,
      database,
      events,
      logger,
      time: systemTime,
      queue,
      metricsRegistry: metrics?.prometheus.registry,
      cluster:
        cluster === undefined || nodeId === undefined
          ? undefined
          : { nodeId, nodes: () => Promise.resolve(cluster.nodes()) },
      eventLoopLag: config.noSla ? undefined : lagSampler.reader(),
    });
    opened.push(() => sla?.close());
    if (metrics !== undefined || sla !== undefined) lagSampler.start();
    opened.push(() => lagSampler.stop());
    const backup = await startBackupService({
      config,
      events,
      logger,
      time: systemTime,
      registry: metrics?.prometheus.registry,
    });
    opened.push(() => backup.close());
    let isReady = false;
    const drain = new RequestDrain(systemTime);
    const app = createApiApp({
      config,
      queue,
      catalog,
      logger,
      version,
      time: systemTime,
      isReady: () => isReady,
      drain,
      keys,
      events,
      audit: audit?.gate,
    });
    if (metrics !== undefined)
      app.route(
        "/",
        createMetricsRoutes(metrics, {
          onExport: ({ route, context, details }) =>
            audit?.recordRead({
              action: "metrics-export",
              object: route,
              reader: callerIdentity(context),
              details,
            }),
        }),
      );
    if (audit !== undefined) app.route("/", audit.routes(callerIdentity));
    if (sla !== undefined) app.route("/", sla.routes());
    app.route(
      "/",
      backup.routes(({ action, context, details }) =>
        audit?.recordRead({
          // The created backup itself is recorded as backup-create when it ends (audit-wiring).
          action: action === "create" ? "backup-requested" : `backup-${action}`,
          object: "backups",
          reader: callerIdentity(context),
          details,
        }),
      ),
    );
    app.route("/", createGpuRoutes({ gpu, loadedModels: () => queue.snapshot().loaded }));
    app.route("/", createModelRoutes({ catalog, queue, estimateMemory }));
    app.route("/", await openWorkspaceRoutes({ config, logger, audit }));
    app.route("/", createWebRoutes());
    const clusterFetch =
      cluster === undefined
        ? undefined
        : createClusterFetch({ cluster, secret: config.clusterSecret, logger, redact: redactorFor(config) });
    const server = await listen(
      withDirectStreams(
        clusterFetch === undefined
          ? app.fetch
          : (request: Request, env?: unknown) =>
              isClusterPath(new URL(request.url).pathname) ? clusterFetch(request) : app.fetch(request, env),
      ),
      config,
    );
    sampleWhileServing(server, lagSampler);
    const port = (server.address() as AddressInfo).port;
    if (cluster !== undefined) {
      opened.push(() => server.close());
      await joinCluster(cluster, { config, nodeId: nodeId!, port, logger });
    }
    const host = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
    isReady = true;
    const url = `http://${host}:${port}`;
    sla?.start(url, { isListening: () => server.listening, fetch: (request) => app.fetch(request) });

    let closing: Promise<void> | undefined;
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const close = (): Promise<void> => {
      closing ??= (async () => {
        isReady = false;
        // First: its last heartbeat is the stop, not a failed check of a closing front.
        await sla?.close();
        await drainRequests(drain, { graceMs: config.shutdownGraceMs, logger });
        await stopHttp(server, { flushMs: streamFlushMs, time: systemTime });
        await queue.close();
        // A backup in progress finishes before the database closes under it.
        await backup.close();
        metrics?.close();
        // After the metrics' last write: its rows ship before the database closes.
        await state.close();
        database.close();
        // Last: whatever the steps above emitted (unloads, request ends) is on record before the stop.
        await audit
          ?.close("shutdown")
          .catch((error: unknown) => logger.error("Audit log could not be closed", { error: String(error) }));
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        logger.info("Stopped");
        markClosed();
      })();
      return closing;
    };
    const onSignal = (): void => void close();
    if (options.handleSignals !== false) {
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    }
    logger.info("Listening", {
      url,
      modelsDir: config.modelsDir,
      threads: config.threads === 0 ? "auto" : config.threads,
      parallel: config.parallel,
    });
    const routes = app.routes.map(({ method, path }) => ({ method, path }));
    return { url, port, events, queue, metrics, models, sla, store, routes, close, closed };
  } catch (error) {
    for (const close of opened.reverse())
      await Promise.resolve()
        .then(close)
        .catch(() => undefined);
    throw error;
  }
}

function metricsSettingsOf(config: Readonly<Config>): MetricsSettings {
  return {
    intervalMs: config.metricsIntervalMs,
    requestLogSize: config.metricsRequestLog,
    retentionMs: config.metricsRetentionMs,
    warnings: {
      windowMs: config.warnWindowMs,
      forMs: config.warnForMs,
      minRequests: config.warnMinRequests,
      decodeTokensPerSecond: config.warnDecodeTokensPerSecond,
      timeToFirstTokenP95Ms: config.warnTtftP95Ms,
      queueP95Ms: config.warnQueueP95Ms,
      memoryPercent: config.warnMemoryPercent,
      eventLoopLagMs: config.warnEventLoopLagMs,
    },
  };
}

/** What the metrics sample from the scheduler (ops may not import it). */
function serverStateOf(queue: Scheduler, computeBackend: string): ServerState {
  const snapshot = queue.snapshot();
  return {
    loadedModels: snapshot.loaded.map((view) => {
      const plan = view.info.plan;
      return {
        model: view.name,
        pid: view.info.pid,
        memoryBytes: view.info.memoryBytes,
        residentBytes:
          view.info.pid === undefined ? undefined : readResidentMemorySync(view.info.pid)?.residentBytes,
        plan:
          plan === undefined
            ? undefined
            : {
                backend: plan.backend,
                engineBuild: plan.engineBuild,
                gpuLayers: plan.gpuLayers,
                decodeThreads: plan.threads.threads,
                promptThreads: plan.threads.batchThreads,
                estimatedResidentBytes: plan.estimate.residentBytes,
              },
      };
    }),
    computeBackend,
    queue: snapshot.models.flatMap((view) =>
      priorities.map((priority) => ({
        model: view.model,
        priority,
        queued: view.priorities[priority].queued,
        running: view.priorities[priority].running,
      })),
    ),
    memoryBudgetBytes: snapshot.memoryBudgetBytes,
  };
}
