/**
 * The Prometheus families (prom-client, a private Registry per collector so several servers
 * can live in one process). Histograms and counters are fed off the hot path when the
 * collector flushes; gauges are set from the server state when scraped. Labels are model,
 * priority and outcome only (and `node` on a cluster node): never request ids, keys or prompts.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MetricName, MetricValues, RequestRecord } from "./request-record.js";
import type { LoadedModelPlan } from "./server-state.js";

const latencyBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640,
];
const interTokenBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10,
];
const durationBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 3600];
const tokenBuckets = [1, 4, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];

type ModelPriority = "model" | "priority";

/** The model × priority children of the per-request families, looked up once per series. */
interface SeriesChildren {
  queueTime: Histogram.Internal<ModelPriority>;
  loadWait: Histogram.Internal<ModelPriority>;
  prefill: Histogram.Internal<ModelPriority>;
  timeToFirstToken: Histogram.Internal<ModelPriority>;
  interToken: Histogram.Internal<ModelPriority>;
  decode: Histogram.Internal<ModelPriority>;
  promptLength: Histogram.Internal<ModelPriority>;
  generationLength: Histogram.Internal<ModelPriority>;
  promptTokens: Counter.Internal;
  generationTokens: Counter.Internal;
  cachedTokens: Counter.Internal;
  draftedTokens: Counter.Internal;
  acceptedTokens: Counter.Internal;
  preemptions: Counter.Internal;
}

/** Which per-request histogram each timed statistic feeds (in seconds), by name. */
const timedFamilies: readonly (readonly [
  MetricName,
  "queueTime" | "loadWait" | "prefill" | "timeToFirstToken" | "interToken",
])[] = [
  ["queue_ms", "queueTime"],
  ["load_ms", "loadWait"],
  ["prompt_ms", "prefill"],
  ["time_to_first_token_ms", "timeToFirstToken"],
  ["inter_token_latency_ms", "interToken"],
];

export interface GaugeState {
  queue: { model: string; priority: string; queued: number; running: number }[];
  loadedModels: number;
  runnerMemory: {
    model: string;
    residentBytes: number | undefined;
    reservedBytes: number;
    plan?: LoadedModelPlan | undefined;
  }[];
  computeBackend: string | undefined;
  processResidentBytes: number;
  eventLoopLag: { p50Ms: number; p99Ms: number; maxMs: number } | undefined;
  activeWarnings: number;
}

export class PrometheusMetrics {
  readonly registry = new Registry();
  readonly #queueTime: Histogram<ModelPriority>;
  readonly #loadWait: Histogram<ModelPriority>;
  readonly #prefill: Histogram<ModelPriority>;
  readonly #timeToFirstToken: Histogram<ModelPriority>;
  readonly #interToken: Histogram<ModelPriority>;
  readonly #decode: Histogram<ModelPriority>;
  readonly #duration: Histogram<ModelPriority | "outcome">;
  readonly #promptLength: Histogram<ModelPriority>;
  readonly #generationLength: Histogram<ModelPriority>;
  readonly #requests: Counter<ModelPriority | "outcome">;
  readonly #errors: Counter<ModelPriority | "outcome">;
  readonly #promptTokens: Counter<ModelPriority>;
  readonly #generationTokens: Counter<ModelPriority>;
  readonly #cachedTokens: Counter<ModelPriority>;
  readonly #draftedTokens: Counter<ModelPriority>;
  readonly #acceptedTokens: Counter<ModelPriority>;
  readonly #preemptions: Counter<ModelPriority>;
  readonly #restarts: Counter<"model">;
  readonly #modelLoads: Histogram<"model" | "outcome">;
  readonly #queued: Gauge<ModelPriority>;
  readonly #running: Gauge<ModelPriority>;
  readonly #inFlight: Gauge;
  readonly #loadedModels: Gauge;
  readonly #runnerResident: Gauge<"model">;
  readonly #runnerReserved: Gauge<"model">;
  readonly #processResident: Gauge;
  readonly #computeBackend: Gauge<"backend">;
  readonly #modelPlan: Gauge<"model" | "backend" | "engine_build">;
  readonly #gpuLayers: Gauge<"model">;
  readonly #threads: Gauge<"model" | "phase">;
  readonly #estimatedResident: Gauge<"model">;
  readonly #lagP50: Gauge;
  readonly #lagP99: Gauge;
  readonly #lagMax: Gauge;
  readonly #warnings: Gauge;
  readonly #children = new Map<string, SeriesChildren>();

  /**
   * `nodeId`: a cluster node's id, set as the default label `node` on every series of this
   * registry (those registered later by the SLA and backup services too). Undefined: no label.
   */
  constructor(options: { nodeId?: string | undefined } = {}) {
    if (options.nodeId !== undefined) this.registry.setDefaultLabels({ node: options.nodeId });
    const registers = [this.registry];
    const histogram = <Label extends string>(
      name: string,
      help: string,
      shape: { labels: readonly Label[]; buckets: number[] },
    ) => new Histogram<Label>({ name, help, labelNames: shape.labels, buckets: shape.buckets, registers });
    const counter = <Label extends string>(name: string, help: string, labelNames: readonly Label[]) =>
      new Counter<Label>({ name, help, labelNames, registers });
    const gauge = <Label extends string>(name: string, help: string, labelNames: readonly Label[]) =>
      new Gauge<Label>({ name, help, labelNames, registers });
    const byRequest = ["model", "priority"] as const;
    this.#queueTime = histogram(
      "rawrxd_request_queue_seconds",
      "Arrival to a sequence (model load included, and waits after preemption).",
      { labels: byRequest, buckets: durationBuckets },
    );
    this.#loadWait = histogram(
      "rawrxd_request_load_wait_seconds",
      "Time a request waited on a model load it caused or joined.",
      { labels: byRequest, buckets: durationBuckets },
    );
    this.#prefill = histogram(
      "rawrxd_request_prefill_seconds",
      "Sequence start to the first token: prompt evaluation.",
      { labels: byRequest, buckets: latencyBuckets },
    );
    this.#timeToFirstToken = histogram(
      "rawrxd_time_to_first_token_seconds",
      "Arrival to the first generated token.",
      { labels: byRequest, buckets: latencyBuckets },
    );
    this.#interToken = histogram(
      "rawrxd_inter_token_latency_seconds",
      "Mean time between generated tokens, one observation per request with 2+ tokens.",
      { labels: byRequest, buckets: interTokenBuckets },
    );
    this.#decode = histogram(
      "rawrxd_request_decode_seconds",
      "First token to the last, without time spent preempted.",
      { labels: byRequest, buckets: durationBuckets },
    );
    this.#duration = histogram(
      "rawrxd_request_duration_seconds",
      "Arrival to the end of admitted requests, by outcome.",
      { labels: [...byRequest, "outcome"], buckets: durationBuckets },
    );
    this.#promptLength = histogram("rawrxd_request_prompt_tokens", "Prompt tokens per admitted request.", {
      labels: byRequest,
      buckets: tokenBuckets,
    });
    this.#generationLength = histogram(
      "rawrxd_request_generation_tokens",
      "Generated tokens per admitted request.",
      { labels: byRequest, buckets: tokenBuckets },
    );
    this.#requests = counter(
      "rawrxd_requests_total",
      "Finished requests by outcome: stop, length, cancelled, error, rejected.",
      [...byRequest, "outcome"],
    );
    this.#errors = counter(
      "rawrxd_request_errors_total",
      "Failed requests by error code (the outcome label holds the code).",
      [...byRequest, "outcome"],
    );
    this.#promptTokens = counter(
      "rawrxd_prompt_tokens_total",
      "Prompt tokens of finished requests.",
      byRequest,
    );
    this.#generationTokens = counter(
      "rawrxd_generation_tokens_total",
      "Generated tokens of finished requests.",
      byRequest,
    );
    this.#cachedTokens = counter(
      "rawrxd_cached_prompt_tokens_total",
      "Prompt tokens reused from a sequence's cache.",
      byRequest,
    );
    this.#draftedTokens = counter(
      "rawrxd_draft_tokens_total",
      "Tokens drafted by speculative decoding (prompt lookup).",
      byRequest,
    );
    this.#acceptedTokens = counter(
      "rawrxd_draft_accepted_tokens_total",
      "Drafted tokens the model confirmed and that went into the output.",
      byRequest,
    );
    this.#preemptions = counter(
      "rawrxd_request_preemptions_total",
      "Times a running request was paused for a more urgent one.",
      byRequest,
    );
    this.#restarts = counter(
      "rawrxd_runner_restarts_total",
      "Runner processes that exited unexpectedly (the next request reloads the model).",
      ["model"],
    );
    this.#modelLoads = histogram("rawrxd_model_load_seconds", "Model load time, by outcome (ok, error).", {
      labels: ["model", "outcome"],
      buckets: durationBuckets,
    });
    this.#queued = gauge("rawrxd_queue_depth", "Requests waiting for a sequence or a load.", byRequest);
    this.#running = gauge("rawrxd_requests_running", "Requests holding a sequence.", byRequest);
    this.#inFlight = gauge(
      "rawrxd_requests_in_flight",
      "Requests admitted and not finished (queued plus running).",
      [],
    );
    this.#loadedModels = gauge("rawrxd_models_loaded", "Models loaded now.", []);
    this.#runnerResident = gauge(
      "rawrxd_runner_resident_memory_bytes",
      "Resident memory (RSS) of each model's runner process.",
      ["model"],
    );
    this.#runnerReserved = gauge(
      "rawrxd_model_memory_bytes",
      "Memory the engine reserved for each loaded model's weights and context.",
      ["model"],
    );
    this.#computeBackend = gauge(
      "rawrxd_compute_backend_info",
      "The compute backend GPU detection chose (value 1; GET /v1/gpu says why).",
      ["backend"],
    );
    this.#modelPlan = gauge(
      "rawrxd_model_plan_info",
      "How each loaded model runs: backend and engine build (value 1).",
      ["model", "backend", "engine_build"],
    );
    this.#gpuLayers = gauge("rawrxd_model_gpu_layers", "Layers of each loaded model offloaded to the GPU.", [
      "model",
    ]);
    this.#threads = gauge(
      "rawrxd_model_threads",
      "CPU threads each loaded model's runner uses, for decoding and for prompt chunks.",
      ["model", "phase"],
    );
    this.#estimatedResident = gauge(
      "rawrxd_model_estimated_resident_bytes",
      "The planner's estimate of each runner's resident memory (compare rawrxd_runner_resident_memory_bytes).",
      ["model"],
    );
    this.#processResident = gauge(
      "rawrxd_process_resident_memory_bytes",
      "Resident memory (RSS) of the server's main process.",
      [],
    );
    this.#lagP50 = gauge(
      "rawrxd_event_loop_lag_p50_seconds",
      "Main event-loop delay, median over the last interval.",
      [],
    );
    this.#lagP99 = gauge(
      "rawrxd_event_loop_lag_p99_seconds",
      "Main event-loop delay, 99th percentile over the last interval.",
      [],
    );
    this.#lagMax = gauge(
      "rawrxd_event_loop_lag_max_seconds",
      "Main event-loop delay, maximum over the last interval.",
      [],
    );
    this.#warnings = gauge(
      "rawrxd_performance_warnings_active",
      "Performance warnings active now (GET /v1/metrics/warnings).",
      [],
    );
  }

  /** One finished request; `model` is the label-safe name. Off the hot path (collector flush). */
  observe(record: RequestRecord, model: string, values: MetricValues): void {
    const labels = { model, priority: record.priority };
    this.#requests.inc({ ...labels, outcome: record.outcome });
    if (record.outcome === "error") this.#errors.inc({ ...labels, outcome: record.errorCode ?? "internal" });
    // Requests refused before admission are counted above, not timed (isServed).
    if (values.total_ms === undefined) return;
    const children = this.#childrenOf(model, record.priority);
    for (const [metric, family] of timedFamilies) {
      const ms = values[metric];
      if (ms !== undefined) children[family].observe(ms / 1000);
    }
    if (record.decodeMs !== undefined && record.timeToFirstTokenMs !== undefined)
      children.decode.observe(record.decodeMs / 1000);
    this.#duration.observe({ ...labels, outcome: record.outcome }, values.total_ms / 1000);
    if (values.prompt_tokens !== undefined) children.promptLength.observe(values.prompt_tokens);
    if (values.completion_tokens !== undefined) children.generationLength.observe(values.completion_tokens);
    if (record.promptTokens > 0) children.promptTokens.inc(record.promptTokens);
    if (record.completionTokens > 0) children.generationTokens.inc(record.completionTokens);
    if ((record.cachedTokens ?? 0) > 0) children.cachedTokens.inc(record.cachedTokens);
    if ((record.draftedTokens ?? 0) > 0) children.draftedTokens.inc(record.draftedTokens);
    if ((record.acceptedTokens ?? 0) > 0) children.acceptedTokens.inc(record.acceptedTokens);
    if (record.preemptions > 0) children.preemptions.inc(record.preemptions);
  }

  observeRestart(model: string): void {
    this.#restarts.inc({ model });
  }

  observeModelLoad(model: string, options: { ms: number; isOk: boolean }): void {
    this.#modelLoads.observe({ model, outcome: options.isOk ? "ok" : "error" }, options.ms / 1000);
  }

  setGauges(state: GaugeState): void {
    this.#queued.reset();
    this.#running.reset();
    let inFlight = 0;
    for (const row of state.queue) {
      this.#queued.set({ model: row.model, priority: row.priority }, row.queued);
      this.#running.set({ model: row.model, priority: row.priority }, row.running);
      inFlight += row.queued + row.running;
    }
    this.#inFlight.set(inFlight);
    this.#loadedModels.set(state.loadedModels);
    this.#runnerResident.reset();
    this.#runnerReserved.reset();
    this.#computeBackend.reset();
    if (state.computeBackend !== undefined) this.#computeBackend.set({ backend: state.computeBackend }, 1);
    for (const gauge of [this.#modelPlan, this.#gpuLayers, this.#threads, this.#estimatedResident])
      gauge.reset();
    for (const runner of state.runnerMemory) {
      const model = runner.model;
      if (runner.residentBytes !== undefined) this.#runnerResident.set({ model }, runner.residentBytes);
      this.#runnerReserved.set({ model }, runner.reservedBytes);
      const plan = runner.plan;
      if (plan === undefined) continue;
      this.#modelPlan.set({ model, backend: plan.backend, engine_build: plan.engineBuild }, 1);
      this.#gpuLayers.set({ model }, plan.gpuLayers);
      this.#threads.set({ model, phase: "decode" }, plan.decodeThreads);
      this.#threads.set({ model, phase: "prompt" }, plan.promptThreads);
      this.#estimatedResident.set({ model }, plan.estimatedResidentBytes);
    }
    this.#processResident.set(state.processResidentBytes);
    if (state.eventLoopLag !== undefined) {
      this.#lagP50.set(state.eventLoopLag.p50Ms / 1000);
      this.#lagP99.set(state.eventLoopLag.p99Ms / 1000);
      this.#lagMax.set(state.eventLoopLag.maxMs / 1000);
    }
    this.#warnings.set(state.activeWarnings);
  }

  #childrenOf(model: string, priority: string): SeriesChildren {
    const key = `${model}\u0001${priority}`;
    let children = this.#children.get(key);
    if (children === undefined) {
      const labels = { model, priority };
      children = {
        queueTime: this.#queueTime.labels(labels),
        loadWait: this.#loadWait.labels(labels),
        prefill: this.#prefill.labels(labels),
        timeToFirstToken: this.#timeToFirstToken.labels(labels),
        interToken: this.#interToken.labels(labels),
        decode: this.#decode.labels(labels),
        promptLength: this.#promptLength.labels(labels),
        generationLength: this.#generationLength.labels(labels),
        promptTokens: this.#promptTokens.labels(labels),
        generationTokens: this.#generationTokens.labels(labels),
        cachedTokens: this.#cachedTokens.labels(labels),
        draftedTokens: this.#draftedTokens.labels(labels),
        acceptedTokens: this.#acceptedTokens.labels(labels),
        preemptions: this.#preemptions.labels(labels),
      };
      this.#children.set(key, children);
    }
    return children;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
