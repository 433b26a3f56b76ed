/**
 * `npm run bench:metrics [-- --quick]`: what metrics cost.
 *
 * 1. Recording: the MetricsCollector's event listeners on the hot path, per request
 *    (request-queued + request-end emitted on the EventBus, minus the same emits with no
 *    collector), and the off-path aggregation per request (flush). Also what per-token
 *    observation would cost (docs/decisions/0005).
 * 2. Through the server, in the same run: blocks of requests on stories260K, each on a fresh
 *    server in this process, alternating with metrics and with --no-metrics (on, off, off,
 *    on, …); decode tokens/s measured at the client ((completion tokens − 1) ÷ first → last
 *    content chunk).
 *
 * Prints a table and writes bench/results/metrics-<time>.json and metrics-latest.json.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Histogram, Registry } from "prom-client";
import type { RunningServer } from "../../src/app/index.js";
import { EventBus, silentLogger, systemTime, type ServerEvents } from "../../src/core/index.js";
import { MetricsCollector, QuantileSketch, type MetricsSettings } from "../../src/ops/index.js";
import { completionBody, startBenchServer, streamTiming } from "../lib/bench-server.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel } from "../lib/models.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { writeResultFiles } from "../lib/results.js";

const settings: MetricsSettings = {
  intervalMs: 5000,
  requestLogSize: 10_000,
  retentionMs: 7 * 24 * 3_600_000,
  warnings: {
    windowMs: 300_000,
    forMs: 60_000,
    minRequests: 5,
    decodeTokensPerSecond: 10,
    timeToFirstTokenP95Ms: 10_000,
    queueP95Ms: 30_000,
    memoryPercent: 90,
    eventLoopLagMs: 500,
  },
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function requestEvents(index: number): {
  queued: ServerEvents["request-queued"];
  end: ServerEvents["request-end"];
} {
  const model = ["alpha", "beta", "gamma"][index % 3]!;
  const priority = (["high", "normal", "low"] as const)[index % 3]!;
  const requestId = `bench-${index}`;
  return {
    queued: { requestId, model, priority },
    end: {
      requestId,
      model,
      outcome: index % 50 === 0 ? "cancelled" : "stop",
      promptTokens: 40 + (index % 17),
      completionTokens: 100 + (index % 31),
      totalMs: 900 + (index % 101),
      priority,
      cachedTokens: index % 7,
      queueMs: 3 + (index % 13),
      loadMs: undefined,
      timeToFirstTokenMs: 40 + (index % 29),
      promptMs: 30 + (index % 11),
      decodeMs: 850 + (index % 97),
      preemptions: 0,
    },
  };
}

interface RecordingResult {
  requests: number;
  hotPathMicrosPerRequest: number;
  aggregationMicrosPerRequest: number;
  perTokenSketchMicros: number;
  perTokenPromClientMicros: number;
  perTokenClockMicros: number;
}

/** Times `emit` of one request's events in chunks; between chunks (untimed) the collector flushes. */
function measureRecording(chunks: number): RecordingResult {
  const chunkSize = 1000;
  const payloads = Array.from({ length: chunkSize * chunks }, (_, index) => requestEvents(index));
  const run = (withCollector: boolean): { emitMs: number[]; flushMs: number[] } => {
    const events = new EventBus();
    const collector = withCollector
      ? new MetricsCollector({ events, logger: silentLogger, settings, schedule: "manual" })
      : undefined;
    collector?.start();
    const emitMs: number[] = [];
    const flushMs: number[] = [];
    for (let chunk = 0; chunk < chunks; chunk++) {
      const started = systemTime.monotonicNow();
      for (let index = chunk * chunkSize; index < (chunk + 1) * chunkSize; index++) {
        const payload = payloads[index]!;
        events.emit("request-queued", payload.queued);
        events.emit("request-end", payload.end);
      }
      emitMs.push(systemTime.monotonicNow() - started);
      const flushStarted = systemTime.monotonicNow();
      collector?.flush();
      flushMs.push(systemTime.monotonicNow() - flushStarted);
    }
    collector?.close();
    return { emitMs, flushMs };
  };
  // Warm up the JIT on both paths, then measure alternately.
  run(true);
  run(false);
  const withCollector: number[] = [];
  const without: number[] = [];
  const flushes: number[] = [];
  for (let round = 0; round < 3; round++) {
    const measured = run(true);
    withCollector.push(...measured.emitMs);
    flushes.push(...measured.flushMs);
    without.push(...run(false).emitMs);
  }
  const perRequestUs = (ms: number): number => (ms * 1000) / chunkSize;
  return {
    requests: chunkSize * chunks * 3,
    hotPathMicrosPerRequest: Math.max(0, perRequestUs(median(withCollector)) - perRequestUs(median(without))),
    aggregationMicrosPerRequest: perRequestUs(median(flushes)),
    ...measurePerToken(),
  };
}

/** The alternative to a per-request mean inter-token latency: one observation per token. */
function measurePerToken(): Pick<
  RecordingResult,
  "perTokenSketchMicros" | "perTokenPromClientMicros" | "perTokenClockMicros"
> {
  const tokens = 500_000;
  const gaps = Array.from({ length: 4096 }, (_, index) => 5 + (index % 97) / 10);
  const time = (body: (index: number) => void): number => {
    for (let index = 0; index < 50_000; index++) body(index);
    const started = systemTime.monotonicNow();
    for (let index = 0; index < tokens; index++) body(index);
    return ((systemTime.monotonicNow() - started) * 1000) / tokens;
  };
  const sketch = new QuantileSketch();
  const histogram = new Histogram({
    name: "bench_itl_seconds",
    help: "bench",
    labelNames: ["model", "priority"],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [new Registry()],
  });
  const labels = { model: "alpha", priority: "normal" };
  let last = systemTime.monotonicNow();
  let maxGapMs = 0;
  return {
    perTokenClockMicros: time(() => {
      const now = systemTime.monotonicNow();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }),
    perTokenSketchMicros: time((index) => sketch.add(gaps[index & 4095]!)),
    perTokenPromClientMicros: time((index) => histogram.observe(labels, gaps[index & 4095]! / 1000)),
  };
}

interface VariantSamples {
  decodeTokensPerSecond: number[];
  /** Median decode tokens/s of each block, in block order. */
  blockMedians: number[];
  completionTokens: number;
  decodeMs: number;
  /** CPU time of this process (server main thread, its HTTP and the bench client) while measuring. */
  mainProcessCpuMs: number;
}

async function startMetricsServer(
  modelsDir: string,
  isMetricsOn: boolean,
): Promise<{ server: RunningServer; home: string }> {
  const home = mkdtempSync(join(tmpdir(), `rawrxd-bench-metrics-${isMetricsOn ? "on" : "off"}-`));
  const flags: Record<string, string> = {
    threads: "1",
    parallel: "1",
    "context-size": "512",
    "max-loaded-models": "1",
  };
  if (!isMetricsOn) flags["no-metrics"] = "true";
  const server = await startBenchServer({ home, modelsDirectory: modelsDir, flags });
  return { server, home };
}

/**
 * Blocks of requests, each on a fresh server (and runner process), in the order on, off, off,
 * on, on, off… so neither variant always runs first or on a warmer machine.
 */
async function measureThroughServer(options: {
  blocks: number;
  requestsPerBlock: number;
  maxTokens: number;
}): Promise<{ on: VariantSamples; off: VariantSamples }> {
  await prepareModel("stories");
  const modelsDir = join(benchDirectory, ".models");
  const empty = (): VariantSamples => ({
    decodeTokensPerSecond: [],
    blockMedians: [],
    completionTokens: 0,
    decodeMs: 0,
    mainProcessCpuMs: 0,
  });
  const samples: Record<"on" | "off", VariantSamples> = { on: empty(), off: empty() };
  const words = ["Once", "Lily", "The dog", "A little bird", "Tom", "One day", "The sun", "Ben"];
  for (let block = 0; block < options.blocks; block++) {
    const variant = [0, 3].includes(block % 4) ? "on" : "off";
    const { server, home } = await startMetricsServer(modelsDir, variant === "on");
    const client = new CompletionStreamClient(server.url);
    try {
      await client.stream(completionBody({ model: "stories260K", prompt: "Warm up", maxTokens: 16 }));
      const cpuBefore = process.cpuUsage();
      const rates: number[] = [];
      for (let index = 0; index < options.requestsPerBlock; index++) {
        const prompt = `${words[index % words.length]} ${index}`;
        const streamed = await client.stream(
          completionBody({ model: "stories260K", prompt, maxTokens: options.maxTokens }),
        );
        const {
          completionTokens: tokens,
          firstToLastMs,
          decodeTokensPerSecond: rate,
        } = streamTiming(streamed);
        if (!Number.isFinite(rate)) continue;
        rates.push(rate);
        samples[variant].completionTokens += tokens - 1;
        samples[variant].decodeMs += firstToLastMs;
      }
      const cpu = process.cpuUsage(cpuBefore);
      samples[variant].mainProcessCpuMs += (cpu.user + cpu.system) / 1000;
      samples[variant].decodeTokensPerSecond.push(...rates);
      samples[variant].blockMedians.push(median(rates));
    } finally {
      client.close();
      await server.close();
      rmSync(home, { recursive: true, force: true });
    }
    console.error(`  block ${block + 1}/${options.blocks} metrics ${variant}`);
  }
  return samples;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } }, strict: true });
  const quick = values.quick;
  const startedAt = new Date(systemTime.wallNow());
  const machine = await describeMachine();
  console.error(
    `Metrics overhead: ${machine.cpuModel}, ${machine.availableParallelism} cores, Node ${machine.nodeVersion}`,
  );
  const recording = measureRecording(quick ? 20 : 100);
  console.error(`  recording measured over ${recording.requests} requests`);
  const maxTokens = 200;
  const server = await measureThroughServer({
    blocks: quick ? 4 : 16,
    requestsPerBlock: quick ? 6 : 10,
    maxTokens,
  });
  const summary = (samples: VariantSamples) => ({
    requests: samples.decodeTokensPerSecond.length,
    medianDecodeTokensPerSecond: median(samples.decodeTokensPerSecond),
    pooledDecodeTokensPerSecond: (samples.completionTokens * 1000) / samples.decodeMs,
    mainProcessCpuMicrosPerToken: (samples.mainProcessCpuMs * 1000) / samples.completionTokens,
  });
  const on = summary(server.on);
  const variantRow = (label: string, variant: ReturnType<typeof summary>): string[] => [
    label,
    String(variant.requests),
    formatNumber(variant.medianDecodeTokensPerSecond, 1),
    formatNumber(variant.pooledDecodeTokensPerSecond, 1),
    "",
    formatNumber(variant.mainProcessCpuMicrosPerToken, 1),
  ];
  const off = summary(server.off);
  const ratio = on.medianDecodeTokensPerSecond / off.medianDecodeTokensPerSecond;
  const pooledRatio = on.pooledDecodeTokensPerSecond / off.pooledDecodeTokensPerSecond;
  // Blocks run on, off, off, on…: block i of each variant are neighbours in time, so their
  // ratio cancels slow drifts of the machine; the median of those ratios resists bursts.
  const pairRatios = server.on.blockMedians.map(
    (onMedian, index) => onMedian / server.off.blockMedians[index]!,
  );
  const pairedRatio = median(pairRatios);

  console.log("");
  console.log(
    formatTable(
      ["recording (per request, µs)", "value", "target"],
      [
        ["hot path: event listeners", formatNumber(recording.hotPathMicrosPerRequest, 3), "≤ 10"],
        ["aggregation (flush, off the hot path)", formatNumber(recording.aggregationMicrosPerRequest, 2), ""],
        ["per token, if observed: clock read", formatNumber(recording.perTokenClockMicros, 3), ""],
        ["per token, if observed: + sketch", formatNumber(recording.perTokenSketchMicros, 3), ""],
        ["per token, if observed: + prom-client", formatNumber(recording.perTokenPromClientMicros, 3), ""],
      ],
    ),
  );
  console.log("");
  console.log(
    formatTable(
      [
        "stories260K through the server",
        "requests",
        "median tok/s",
        "pooled tok/s",
        "paired blocks",
        "main CPU µs/token",
      ],
      [
        variantRow("metrics on", on),
        variantRow("metrics off (--no-metrics)", off),
        [
          "on ÷ off",
          "",
          formatNumber(ratio, 4),
          formatNumber(pooledRatio, 4),
          formatNumber(pairedRatio, 4),
          formatNumber(on.mainProcessCpuMicrosPerToken / off.mainProcessCpuMicrosPerToken, 4),
        ],
      ],
    ),
  );
  console.log(
    `\nBlocks on, off, off, on…, each a fresh server; ${maxTokens} tokens per request, temperature 0, parallel 1, 1 thread; target on ÷ off within 1%.`,
  );

  const report = {
    startedAt: startedAt.toISOString(),
    machine,
    quick,
    recording,
    throughServer: {
      model: "stories260K",
      maxTokens,
      on,
      off,
      ratio,
      pooledRatio,
      pairRatios,
      pairedRatio,
      loadAverage: loadavg(),
      samples: server,
    },
  };
  const path = await writeResultFiles(
    join(benchDirectory, "results"),
    { prefix: "metrics", latest: "metrics-latest.json", startedAt: report.startedAt },
    report,
  );
  console.log(`Raw samples: ${path} (and results/metrics-latest.json)`);
}

await main();
