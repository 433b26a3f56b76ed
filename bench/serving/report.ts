/** Summaries per scenario, the printed table and the JSON file. */
import type { MachineInfo } from "../lib/machine.js";
import type { BlockResult, GenerationSample, Variant } from "../lib/samples.js";
import type { Scenario } from "./scenarios.js";
import { median, summarize, type Summary } from "../lib/stats.js";
import { formatNumber, formatSigned, formatTable } from "../lib/table.js";
import { writeResultFiles } from "../lib/results.js";

export interface ScenarioResult {
  scenario: Scenario;
  modelLabel: string;
  modelPath: string;
  blocks: BlockResult[];
}

export interface VariantSummary {
  timeToFirstTokenMs: Summary;
  decodeTokensPerSecond: Summary;
  completionTokens: Summary;
  totalMs: Summary;
}

export interface ScenarioSummary {
  direct: VariantSummary;
  server: VariantSummary;
  /** median server TTFT − median direct TTFT. Target ≤ 5 ms. */
  addedTimeToFirstTokenMs: number;
  /** median server decode tok/s ÷ median direct decode tok/s. Target ≥ 0.97. */
  decodeRatio: number;
  /** Server: median prompt tokens reused from the runner's cache (BOS only is expected). */
  serverCachedPromptTokens: number;
  /** Reps whose direct and server texts are identical (greedy decoding), of those compared. */
  identicalTexts: { identical: number; compared: number };
  /** CPU ms per completion token over all measured reps (see BlockCpu). */
  cpuPerTokenMs: { direct: number; serverRunner: number; serverMain: number };
  /** Medians of the server's TTFT split by its own events, in ms. */
  serverTimeToFirstToken: { sentToQueued: number; queuedToFirstToken: number; firstTokenToClient: number };
}

function samplesOf(result: ScenarioResult, variant: Variant): GenerationSample[] {
  return result.blocks.filter((block) => block.variant === variant).flatMap((block) => block.samples);
}

function cpuPerToken(blocks: readonly BlockResult[], pick: (block: BlockResult) => number): number {
  const tokens = blocks.reduce((total, block) => total + block.cpu.completionTokens, 0);
  return blocks.reduce((total, block) => total + pick(block), 0) / tokens;
}

function summarizeVariant(samples: readonly GenerationSample[]): VariantSummary {
  return {
    timeToFirstTokenMs: summarize(samples.map((sample) => sample.timeToFirstTokenMs)),
    decodeTokensPerSecond: summarize(samples.map((sample) => sample.decodeTokensPerSecond)),
    completionTokens: summarize(samples.map((sample) => sample.completionTokens)),
    totalMs: summarize(samples.map((sample) => sample.totalMs)),
  };
}

export function summarizeScenario(result: ScenarioResult): ScenarioSummary {
  const directSamples = samplesOf(result, "direct");
  const serverSamples = samplesOf(result, "server");
  const direct = summarizeVariant(directSamples);
  const server = summarizeVariant(serverSamples);
  const directTextByRep = new Map(directSamples.map((sample) => [sample.rep, sample.text]));
  const compared = serverSamples.filter((sample) => directTextByRep.has(sample.rep));
  const directBlocks = result.blocks.filter((block) => block.variant === "direct");
  const serverBlocks = result.blocks.filter((block) => block.variant === "server");
  const medianOf = (value: (sample: GenerationSample) => number): number => median(serverSamples.map(value));
  return {
    direct,
    server,
    addedTimeToFirstTokenMs: server.timeToFirstTokenMs.median - direct.timeToFirstTokenMs.median,
    decodeRatio: server.decodeTokensPerSecond.median / direct.decodeTokensPerSecond.median,
    serverCachedPromptTokens: median(serverSamples.map((sample) => sample.cachedPromptTokens ?? Number.NaN)),
    identicalTexts: {
      identical: compared.filter((sample) => directTextByRep.get(sample.rep) === sample.text).length,
      compared: compared.length,
    },
    cpuPerTokenMs: {
      direct: cpuPerToken(directBlocks, (block) => block.cpu.benchProcessMs),
      serverRunner: cpuPerToken(serverBlocks, (block) => block.cpu.runnerProcessMs ?? Number.NaN),
      serverMain: cpuPerToken(serverBlocks, (block) => block.cpu.benchProcessMs),
    },
    serverTimeToFirstToken: {
      sentToQueued: medianOf((sample) => sample.serverQueuedMs ?? Number.NaN),
      queuedToFirstToken: medianOf(
        (sample) => (sample.serverFirstTokenEventMs ?? Number.NaN) - (sample.serverQueuedMs ?? Number.NaN),
      ),
      firstTokenToClient: medianOf(
        (sample) => sample.timeToFirstTokenMs - (sample.serverFirstTokenEventMs ?? Number.NaN),
      ),
    },
  };
}

export function renderTable(results: readonly ScenarioResult[]): string {
  const header = [
    "model",
    "threads",
    "variant",
    "n",
    "tokens",
    "TTFT p50 ms",
    "TTFT p10-p90 ms",
    "decode tok/s p50",
    "decode p10-p90",
    "added TTFT ms",
    "ratio",
    "CPU ms/token",
  ];
  const rows: string[][] = [];
  for (const result of results) {
    const summary = summarizeScenario(result);
    for (const variant of ["direct", "server"] as const) {
      const values = summary[variant];
      const isServer = variant === "server";
      rows.push([
        result.modelLabel,
        String(result.scenario.threads),
        variant,
        String(values.decodeTokensPerSecond.count),
        formatNumber(values.completionTokens.median, 0),
        formatNumber(values.timeToFirstTokenMs.median, 1),
        `${formatNumber(values.timeToFirstTokenMs.p10, 1)}-${formatNumber(values.timeToFirstTokenMs.p90, 1)}`,
        formatNumber(values.decodeTokensPerSecond.median, 1),
        `${formatNumber(values.decodeTokensPerSecond.p10, 1)}-${formatNumber(values.decodeTokensPerSecond.p90, 1)}`,
        isServer ? formatSigned(summary.addedTimeToFirstTokenMs, 1) : "",
        isServer ? `${formatNumber(summary.decodeRatio, 3)}×` : "",
        isServer
          ? `${formatNumber(summary.cpuPerTokenMs.serverRunner, 2)} runner + ${formatNumber(summary.cpuPerTokenMs.serverMain, 2)} main`
          : formatNumber(summary.cpuPerTokenMs.direct, 2),
      ]);
    }
  }
  return formatTable(header, rows);
}

export function renderNotes(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    const summary = summarizeScenario(result);
    const verdicts = [
      `added TTFT ${formatSigned(summary.addedTimeToFirstTokenMs, 1)} ms (target ≤ 5) ${summary.addedTimeToFirstTokenMs <= 5 ? "ok" : "MISSED"}`,
      `decode ratio ${formatNumber(summary.decodeRatio, 3)} (target ≥ 0.97) ${summary.decodeRatio >= 0.97 ? "ok" : "MISSED"}`,
      `server reused ${formatNumber(summary.serverCachedPromptTokens, 0)} cached prompt token(s)`,
      `identical greedy texts ${summary.identicalTexts.identical}/${summary.identicalTexts.compared}`,
    ];
    const split = summary.serverTimeToFirstToken;
    verdicts.push(
      `server TTFT p50 split: request sent → queued (HTTP, body, schema, catalog) ${formatNumber(split.sentToQueued, 1)} ms, ` +
        `queued → first token in main process (runner: prefill, first decode, IPC) ${formatNumber(split.queuedToFirstToken, 1)} ms, ` +
        `→ client (SSE response start, framing, socket) ${formatNumber(split.firstTokenToClient, 1)} ms`,
    );
    lines.push(`- ${result.modelLabel}, ${result.scenario.threads} thread(s): ${verdicts.join("; ")}.`);
  }
  return lines.join("\n");
}

export interface BenchReport {
  startedAt: string;
  durationMs: number;
  machine: MachineInfo & { loadAverageAtEnd: number[] };
  settings: Record<string, unknown>;
  scenarios: (ScenarioResult & { summary: ScenarioSummary })[];
}

/** Writes bench-<timestamp>.json and latest.json; returns the timestamped path. */
export function writeReport(directory: string, report: BenchReport): Promise<string> {
  return writeResultFiles(
    directory,
    { prefix: "bench", latest: "latest.json", startedAt: report.startedAt },
    report,
  );
}
