/** The queue suite's summaries, printed tables, verdicts and JSON file. */
import { loadavg } from "node:os";
import type { Priority } from "../../src/core/index.js";
import type { MachineInfo } from "../lib/machine.js";
import type { ArrivalContext, MachineCpuShares } from "./server.js";
import { median, percentile } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { writeResultFiles } from "../lib/results.js";

/** One request of a mixed-load run. Times are ms since the run's window start (monotonic time). */
export interface QueueSample {
  requestId: string;
  model: string;
  priority: Priority;
  /** Position in its model's seeded list, and which of the model's clients sent it. */
  index: number;
  client: number;
  sentMs: number;
  /** Server events: request-queued, request-started (first start), first-token. */
  queuedMs: number;
  startedMs: number;
  firstTokenEventMs: number;
  /** Client: first and last SSE chunk with text, end of the response. */
  firstContentMs: number;
  lastContentMs: number;
  endedMs: number;
  /** request-queued → request-started: waiting for a sequence (a later pause after a preemption is in pausedMs). */
  queueWaitMs: number;
  /** Client: request sent → first SSE chunk with text. */
  timeToFirstTokenMs: number;
  promptTokens: number;
  completionTokens: number;
  contentChunks: number;
  /** Times this request was preempted, and how long it waited to resume in all. */
  preemptions: number;
  pausedMs: number;
  /** Tokens its resumes evaluated again: prompt + output so far, per preemption. */
  recomputedTokens: number;
  /** What the model's sequences held when this request reached the queue. */
  arrival: ArrivalContext | undefined;
  /**
   * High requests: the request preempted to start it; phase "prompt" = preempted before its first
   * token (its prompt waiting in the runner or being evaluated), "decode" = after.
   */
  preemptedForIt?: { requestId: string; phase: "prompt" | "decode"; generatedTokens: number } | undefined;
  outcome: string | undefined;
  error?: string;
}

export interface MixedRun {
  policy: "priority" | "fifo";
  isPreemptionEnabled: boolean;
  /** Run at the same time as the other policy's window (the throughput pair), each server on about half the CPU. */
  isPaired: boolean;
  seed: number;
  /** Position in the suite's run order. */
  order: number;
  windowMs: number;
  /** After the window, until the last sent request ended. */
  drainMs: number;
  /** Both servers' start, their four loads and warm-up requests (shared by all windows). */
  setupMs: number;
  runnerPids: number[];
  /** Completion tokens that reached the clients within the window (see tokensWithin). */
  tokensInWindow: number;
  /** All completion tokens of the window's requests (drain included), and those their resumes evaluated again. */
  completionTokens: number;
  recomputedTokens: number;
  preemptions: number;
  /** Share of the window during which the sequences (models × parallel) were held by a request. */
  sequenceOccupancy: number;
  cpuInWindow: { runnerMs: number; mainMs: number };
  /** Whole machine over the window: shares of CPU time busy, idle and stolen. */
  machineCpu: MachineCpuShares | undefined;
  samples: QueueSample[];
}

export interface StreamsBlock {
  /** Through the server (runner process, HTTP, SSE) or node-llama-cpp in this process (the engine's ceiling). */
  variant: "server" | "direct";
  streams: number;
  round: number;
  parallel: number;
  threads: number;
  setupMs: number;
  wallMs: number;
  requests: number;
  completionTokens: number;
  /** Completion tokens of the block ÷ its wall time (first request sent → last stream ended). */
  aggregateTokensPerSecond: number;
  samples: {
    timeToFirstTokenMs: number;
    decodeTokensPerSecond: number;
    completionTokens: number;
    totalMs: number;
  }[];
  /** Server: runner process and this process; direct: all of it is this process (mainMs). */
  cpu: { runnerMs: number; mainMs: number };
  machineCpu: MachineCpuShares | undefined;
}

export function streamsBlock(
  fields: Omit<StreamsBlock, "requests" | "completionTokens" | "aggregateTokensPerSecond">,
): StreamsBlock {
  const completionTokens = fields.samples.reduce(
    (sum, sample) => sum + (Number.isFinite(sample.completionTokens) ? sample.completionTokens : 0),
    0,
  );
  return {
    ...fields,
    requests: fields.samples.length,
    completionTokens,
    aggregateTokensPerSecond: (completionTokens * 1000) / fields.wallMs,
  };
}

interface Spread {
  p50: number;
  p95: number;
}

export interface PriorityRow {
  priority: Priority | "all";
  /** Requests sent in the windows that completed, and those that did not. */
  count: number;
  failed: number;
  queueWaitMs: Spread;
  timeToFirstTokenMs: Spread;
  preempted: number;
  pausedMs: Spread;
}

interface WaitGroup {
  count: number;
  queueWaitMs: Spread;
  maxMs: number;
}

/** High requests by what they found on arrival, and by the phase of the request preempted for them, with their queue wait. */
export interface HighArrivals {
  freeSequence: WaitGroup;
  preemptibleLowRunning: WaitGroup;
  noPreemptibleLow: WaitGroup;
  victimInPrompt: WaitGroup;
  victimDecoding: WaitGroup;
}

export interface PolicySummary {
  policy: "priority" | "fifo";
  runs: number;
  windowSeconds: number;
  aggregateTokensPerSecond: number;
  perRunTokensPerSecond: number[];
  /** CPU the runner processes got in the windows, in cores (of 2): what the machine left them. */
  runnerCores: number;
  /** Tokens in the windows ÷ the runners' CPU seconds: throughput with the machine's noise divided out. */
  tokensPerRunnerCpuSecond: number;
  runnerCpuMsPerToken: number;
  mainCpuMsPerToken: number;
  sequenceOccupancy: number;
  /** Recomputed tokens ÷ completion tokens. */
  recomputedShare: number;
  /** Mean over runs of the machine's stolen and busy CPU shares. */
  steal: number;
  busy: number;
  preemptions: number;
  rows: PriorityRow[];
  highArrivals: HighArrivals;
}

export interface StreamsSummary {
  variant: "server" | "direct";
  streams: number;
  parallel: number;
  threads: number;
  blocks: number;
  requests: number;
  completionTokens: number;
  /** All tokens of the blocks ÷ their wall time together. */
  aggregateTokensPerSecond: number;
  perBlockTokensPerSecond: number[];
  perStreamDecodeTokensPerSecond: number;
  timeToFirstTokenMsP50: number;
  /** Server: runner process + this process (HTTP server, clients); direct: this process. */
  cpuMsPerToken: number;
}

/** Both policies' windows at once: the same moments of the machine for both. */
export interface PairedSummary {
  priority: PolicySummary;
  fifo: PolicySummary;
  /** priority tok/s ÷ fifo tok/s over the same window. Target ≥ 0.95. */
  tokensPerSecondRatio: number;
  runnerCoresRatio: number;
}

export interface QueueSuiteSummary {
  /** The policies' own windows, one at a time (the machine to themselves, apart from other tenants). */
  priority: PolicySummary;
  fifo: PolicySummary;
  paired: PairedSummary | undefined;
  /** fifo high p95 queue wait ÷ priority high p95 queue wait. Target ≥ 5. */
  highQueueWaitP95Ratio: number;
  /** priority aggregate tok/s ÷ fifo aggregate tok/s. Target ≥ 0.95. */
  tokensPerSecondRatio: number;
  /** The same per runner CPU second, and the ratio of the CPU the runners got. */
  tokensPerCpuSecondRatio: number;
  runnerCoresRatio: number;
  streams: StreamsSummary[];
  /** Through the server: 4 streams' aggregate tok/s ÷ 1 stream's. Target ≥ 1. */
  streamsRatio: number;
  /** Through the server: 1 stream's CPU ms per token ÷ 4 streams' (tokens per CPU second, 4 ÷ 1). */
  streamsCpuRatio: number;
  /** The same for node-llama-cpp in this process: what the engine allows on this machine. */
  directStreamsRatio: number;
}

const priorities: readonly Priority[] = ["high", "normal", "low"];

function spread(values: readonly number[]): Spread {
  return { p50: median(values), p95: percentile(values, 0.95) };
}

function priorityRow(priority: Priority | "all", samples: readonly QueueSample[]): PriorityRow {
  const completed = samples.filter(
    (sample) => sample.error === undefined && sample.outcome !== undefined && sample.outcome !== "error",
  );
  return {
    priority,
    count: completed.length,
    failed: samples.length - completed.length,
    queueWaitMs: spread(completed.map((sample) => sample.queueWaitMs)),
    timeToFirstTokenMs: spread(completed.map((sample) => sample.timeToFirstTokenMs)),
    preempted: completed.filter((sample) => sample.preemptions > 0).length,
    pausedMs: spread(completed.filter((sample) => sample.preemptions > 0).map((sample) => sample.pausedMs)),
  };
}

function highArrivals(samples: readonly QueueSample[], parallel: number): HighArrivals {
  const high = samples.filter(
    (sample) => sample.priority === "high" && sample.arrival !== undefined && sample.error === undefined,
  );
  const waits = (matching: readonly QueueSample[]): WaitGroup => ({
    count: matching.length,
    queueWaitMs: spread(matching.map((sample) => sample.queueWaitMs)),
    maxMs: matching.length === 0 ? Number.NaN : Math.max(...matching.map((sample) => sample.queueWaitMs)),
  });
  const group = (filter: (arrival: ArrivalContext) => boolean): WaitGroup =>
    waits(high.filter((sample) => filter(sample.arrival!)));
  const running = (arrival: ArrivalContext): number =>
    arrival.running.high + arrival.running.normal + arrival.running.low;
  return {
    freeSequence: group((arrival) => running(arrival) < parallel),
    preemptibleLowRunning: group((arrival) => running(arrival) >= parallel && arrival.preemptibleLow > 0),
    noPreemptibleLow: group((arrival) => running(arrival) >= parallel && arrival.preemptibleLow === 0),
    victimInPrompt: waits(high.filter((sample) => sample.preemptedForIt?.phase === "prompt")),
    victimDecoding: waits(high.filter((sample) => sample.preemptedForIt?.phase === "decode")),
  };
}

function mean(values: readonly number[]): number {
  const finite = values.filter((value) => Number.isFinite(value));
  return finite.length === 0 ? Number.NaN : finite.reduce((sum, value) => sum + value, 0) / finite.length;
}

function summarizePolicy(
  policy: "priority" | "fifo",
  runs: readonly MixedRun[],
  parallel: number,
): PolicySummary {
  const mine = runs.filter((run) => run.policy === policy);
  const samples = mine.flatMap((run) => run.samples);
  const tokens = mine.reduce((sum, run) => sum + run.tokensInWindow, 0);
  const windowSeconds = mine.reduce((sum, run) => sum + run.windowMs / 1000, 0);
  return {
    policy,
    runs: mine.length,
    windowSeconds,
    aggregateTokensPerSecond: tokens / windowSeconds,
    perRunTokensPerSecond: mine.map((run) => run.tokensInWindow / (run.windowMs / 1000)),
    runnerCores: mine.reduce((sum, run) => sum + run.cpuInWindow.runnerMs, 0) / (windowSeconds * 1000),
    tokensPerRunnerCpuSecond: tokens / (mine.reduce((sum, run) => sum + run.cpuInWindow.runnerMs, 0) / 1000),
    sequenceOccupancy: mean(mine.map((run) => run.sequenceOccupancy)),
    recomputedShare:
      mine.reduce((sum, run) => sum + run.recomputedTokens, 0) /
      mine.reduce((sum, run) => sum + run.completionTokens, 0),
    runnerCpuMsPerToken: mine.reduce((sum, run) => sum + run.cpuInWindow.runnerMs, 0) / tokens,
    mainCpuMsPerToken: mine.reduce((sum, run) => sum + run.cpuInWindow.mainMs, 0) / tokens,
    steal: mean(mine.map((run) => run.machineCpu?.steal ?? Number.NaN)),
    busy: mean(mine.map((run) => run.machineCpu?.busy ?? Number.NaN)),
    preemptions: mine.reduce((sum, run) => sum + run.preemptions, 0),
    rows: [
      ...priorities.map((priority) =>
        priorityRow(
          priority,
          samples.filter((sample) => sample.priority === priority),
        ),
      ),
      priorityRow("all", samples),
    ],
    highArrivals: highArrivals(samples, parallel),
  };
}

function summarizeStreams(
  blocks: readonly StreamsBlock[],
  variant: "server" | "direct",
  streams: number,
): StreamsSummary {
  const mine = blocks.filter((block) => block.variant === variant && block.streams === streams);
  const tokens = mine.reduce((sum, block) => sum + block.completionTokens, 0);
  const wallMs = mine.reduce((sum, block) => sum + block.wallMs, 0);
  const samples = mine.flatMap((block) => block.samples);
  return {
    variant,
    streams,
    parallel: mine[0]?.parallel ?? Number.NaN,
    threads: mine[0]?.threads ?? Number.NaN,
    blocks: mine.length,
    requests: samples.length,
    completionTokens: tokens,
    aggregateTokensPerSecond: (tokens * 1000) / wallMs,
    perBlockTokensPerSecond: mine.map((block) => block.aggregateTokensPerSecond),
    perStreamDecodeTokensPerSecond: median(samples.map((sample) => sample.decodeTokensPerSecond)),
    timeToFirstTokenMsP50: median(samples.map((sample) => sample.timeToFirstTokenMs)),
    cpuMsPerToken: mine.reduce((sum, block) => sum + block.cpu.runnerMs + block.cpu.mainMs, 0) / tokens,
  };
}

export function summarizeQueueSuite(
  runs: readonly MixedRun[],
  blocks: readonly StreamsBlock[],
  parallel: number,
): QueueSuiteSummary {
  const alone = runs.filter((run) => !run.isPaired);
  const together = runs.filter((run) => run.isPaired);
  const priority = summarizePolicy("priority", alone, parallel);
  const fifo = summarizePolicy("fifo", alone, parallel);
  let paired: PairedSummary | undefined;
  if (together.length > 0) {
    const pairedPriority = summarizePolicy("priority", together, parallel);
    const pairedFifo = summarizePolicy("fifo", together, parallel);
    paired = {
      priority: pairedPriority,
      fifo: pairedFifo,
      tokensPerSecondRatio: pairedPriority.aggregateTokensPerSecond / pairedFifo.aggregateTokensPerSecond,
      runnerCoresRatio: pairedPriority.runnerCores / pairedFifo.runnerCores,
    };
  }
  const highOf = (summary: PolicySummary): PriorityRow =>
    summary.rows.find((row) => row.priority === "high")!;
  const streams: StreamsSummary[] = [];
  for (const variant of ["server", "direct"] as const) {
    const counts = [
      ...new Set(blocks.filter((block) => block.variant === variant).map((block) => block.streams)),
    ].sort((a, b) => a - b);
    for (const count of counts) streams.push(summarizeStreams(blocks, variant, count));
  }
  const find = (variant: "server" | "direct", count: number): StreamsSummary | undefined =>
    streams.find((summary) => summary.variant === variant && summary.streams === count);
  const ratio = (variant: "server" | "direct"): number =>
    (find(variant, 4)?.aggregateTokensPerSecond ?? Number.NaN) /
    (find(variant, 1)?.aggregateTokensPerSecond ?? Number.NaN);
  return {
    priority,
    fifo,
    paired,
    highQueueWaitP95Ratio: highOf(fifo).queueWaitMs.p95 / highOf(priority).queueWaitMs.p95,
    tokensPerSecondRatio: priority.aggregateTokensPerSecond / fifo.aggregateTokensPerSecond,
    tokensPerCpuSecondRatio: priority.tokensPerRunnerCpuSecond / fifo.tokensPerRunnerCpuSecond,
    runnerCoresRatio: priority.runnerCores / fifo.runnerCores,
    streams,
    streamsRatio: ratio("server"),
    streamsCpuRatio:
      (find("server", 1)?.cpuMsPerToken ?? Number.NaN) / (find("server", 4)?.cpuMsPerToken ?? Number.NaN),
    directStreamsRatio: ratio("direct"),
  };
}

export function renderQueueTables(summary: QueueSuiteSummary): string {
  const header = [
    "policy",
    "priority",
    "n",
    "queue wait p50 ms",
    "p95 ms",
    "TTFT p50 ms",
    "p95 ms",
    "preempted",
    "agg tok/s",
    "windows tok/s",
    "runner cores",
    "tok/CPU-s",
    "seqs busy",
  ];
  const rows: string[][] = [];
  for (const policy of [summary.priority, summary.fifo]) {
    for (const row of policy.rows) {
      const isAll = row.priority === "all";
      rows.push([
        policy.policy === "priority" ? "priority+preempt" : "fifo",
        row.priority,
        row.failed > 0 ? `${row.count}+${row.failed} failed` : String(row.count),
        formatNumber(row.queueWaitMs.p50, 0),
        formatNumber(row.queueWaitMs.p95, 0),
        formatNumber(row.timeToFirstTokenMs.p50, 0),
        formatNumber(row.timeToFirstTokenMs.p95, 0),
        String(row.preempted),
        isAll ? formatNumber(policy.aggregateTokensPerSecond, 1) : "",
        isAll ? policy.perRunTokensPerSecond.map((rate) => rate.toFixed(1)).join(" / ") : "",
        isAll ? formatNumber(policy.runnerCores, 2) : "",
        isAll ? formatNumber(policy.tokensPerRunnerCpuSecond, 1) : "",
        isAll ? `${formatNumber(policy.sequenceOccupancy * 100, 1)}%` : "",
      ]);
    }
  }
  const streamsHeader = [
    "variant",
    "streams",
    "parallel",
    "threads",
    "requests",
    "tokens",
    "agg tok/s",
    "blocks tok/s",
    "per-stream decode tok/s p50",
    "TTFT p50 ms",
    "CPU ms/token",
  ];
  const streamsRows = summary.streams.map((streams) => [
    streams.variant === "server" ? "server" : "direct (node-llama-cpp)",
    String(streams.streams),
    String(streams.parallel),
    String(streams.threads),
    String(streams.requests),
    String(streams.completionTokens),
    formatNumber(streams.aggregateTokensPerSecond, 1),
    streams.perBlockTokensPerSecond.map((rate) => rate.toFixed(1)).join(" / "),
    formatNumber(streams.perStreamDecodeTokensPerSecond, 1),
    formatNumber(streams.timeToFirstTokenMsP50, 0),
    formatNumber(streams.cpuMsPerToken, 1),
  ]);
  return `${formatTable(header, rows)}\n\n${formatTable(streamsHeader, streamsRows)}`;
}

export function renderQueueNotes(summary: QueueSuiteSummary): string {
  const highOf = (policy: PolicySummary): PriorityRow => policy.rows.find((row) => row.priority === "high")!;
  const verdict = (isMet: boolean): string => (isMet ? "ok" : "MISSED");
  const arrivals = summary.priority.highArrivals;
  const describe = (name: string, group: WaitGroup): string =>
    `${name} ${group.count} (queue wait p50 ${formatNumber(group.queueWaitMs.p50, 0)}, max ${formatNumber(group.maxMs, 0)} ms)`;
  const { priority, fifo } = summary;
  const lines = [
    `- High p95 queue wait: fifo ${formatNumber(highOf(fifo).queueWaitMs.p95, 0)} ms ÷ priority ${formatNumber(highOf(priority).queueWaitMs.p95, 0)} ms = ` +
      `${formatNumber(summary.highQueueWaitP95Ratio, 1)}× (target ≥ 5×) ${verdict(summary.highQueueWaitP95Ratio >= 5)}; ` +
      `n = ${highOf(priority).count} / ${highOf(fifo).count} high requests, so p95 is about their largest.`,
    `- Aggregate tok/s, each policy alone: priority ${formatNumber(priority.aggregateTokensPerSecond, 1)} ÷ fifo ${formatNumber(fifo.aggregateTokensPerSecond, 1)} = ` +
      `${formatNumber(summary.tokensPerSecondRatio, 3)} (target ≥ 0.95) ${verdict(summary.tokensPerSecondRatio >= 0.95)}, with the runners on ` +
      `${formatNumber(priority.runnerCores, 2)} / ${formatNumber(fifo.runnerCores, 2)} cores (machine busy ${formatNumber(priority.busy * 100, 0)} % / ${formatNumber(fifo.busy * 100, 0)} %, ` +
      `stolen ${formatNumber(priority.steal * 100, 1)} % / ${formatNumber(fifo.steal * 100, 1)} %); tokens per runner CPU second ${formatNumber(priority.tokensPerRunnerCpuSecond, 1)} / ` +
      `${formatNumber(fifo.tokensPerRunnerCpuSecond, 1)} = ${formatNumber(summary.tokensPerCpuSecondRatio, 3)}.` +
      (summary.paired === undefined
        ? ""
        : ` Both at once (${formatNumber(summary.paired.priority.windowSeconds, 0)} s, same moments of the machine): priority ${formatNumber(summary.paired.priority.aggregateTokensPerSecond, 1)} ÷ fifo ` +
          `${formatNumber(summary.paired.fifo.aggregateTokensPerSecond, 1)} tok/s = ${formatNumber(summary.paired.tokensPerSecondRatio, 3)} ${verdict(summary.paired.tokensPerSecondRatio >= 0.95)}, ` +
          `runners ${formatNumber(summary.paired.priority.runnerCores, 2)} / ${formatNumber(summary.paired.fifo.runnerCores, 2)} cores, ` +
          `tokens per runner CPU second ${formatNumber(summary.paired.priority.tokensPerRunnerCpuSecond, 1)} / ${formatNumber(summary.paired.fifo.tokensPerRunnerCpuSecond, 1)}, ` +
          `${summary.paired.priority.preemptions} preemptions.`),
    `- Cost of priorities: sequences busy ${formatNumber(priority.sequenceOccupancy * 100, 1)} % / ${formatNumber(fifo.sequenceOccupancy * 100, 1)} % of the windows; ` +
      `${priority.preemptions} preemptions, whose resumes evaluated again ${formatNumber(priority.recomputedShare * 100, 1)} % as many tokens as were generated.`,
    `- 4 streams ÷ 1 stream aggregate tok/s through the server = ${formatNumber(summary.streamsRatio, 2)}× (target ≥ 1) ${verdict(summary.streamsRatio >= 1)}; ` +
      `per CPU ms (noise divided out) ${formatNumber(summary.streamsCpuRatio, 2)}×; node-llama-cpp alone, same context shape, prompts and threads: ${formatNumber(summary.directStreamsRatio, 2)}×.`,
    `- Priority windows, high requests by what they found on arrival: ${describe("a free sequence", arrivals.freeSequence)}; ` +
      `${describe("a preemptible low running", arrivals.preemptibleLowRunning)}; ${describe("no preemptible low", arrivals.noPreemptibleLow)}. ` +
      `By the request preempted for them: ${describe("still in its prompt", arrivals.victimInPrompt)}; ${describe("decoding", arrivals.victimDecoding)}.`,
    "Queue wait = the server's request-queued → request-started events (first start; a preempted request's pause is not in it). " +
      "TTFT = request sent → first SSE chunk with text, at the client. Aggregate tok/s = completion tokens that reached the clients within the windows " +
      "(a request's tokens spread evenly between its first and last chunk) ÷ the windows' length. Runner cores = the runner processes' CPU time ÷ window time; " +
      "on a shared machine they differ between windows when other work runs, and tok/CPU-s divides that out. Seqs busy = time the sequences were held by a request.",
  ];
  return lines.join("\n");
}

export interface QueueReport {
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  summary: QueueSuiteSummary;
  mixedRuns: MixedRun[];
  concurrencyBlocks: StreamsBlock[];
}

/** Writes queue-<timestamp>.json and queue-latest.json (latest.json stays the serving suite's); returns the timestamped path. */
export function writeQueueReport(directory: string, report: QueueReport): Promise<string> {
  return writeResultFiles(
    directory,
    { prefix: "queue", latest: "queue-latest.json", startedAt: report.startedAt },
    { ...report, machine: { ...report.machine, loadAverageAtEnd: loadavg() } },
  );
}
