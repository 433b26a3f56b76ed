/**
 * The configurable performance rules, turned into checks over the rule window: a model's
 * median decode speed below X, its TTFT or queue-wait p95 above Y, a runner that crashed,
 * runner memory near the budget, and event-loop lag. A threshold of 0 turns a rule off.
 * Percentile rules need `minRequests` in the window, so one odd request cannot raise them.
 */
import { formatBytes } from "../../core/index.js";
import type { SeriesStats } from "./series-stats.js";
import type { WarningCheck } from "./warning-rules.js";

export interface WarningSettings {
  /** Sliding window the rules look at, ms. */
  windowMs: number;
  /** How long a breach (and then a recovery) must hold before a warning starts (clears), ms. */
  forMs: number;
  /** Requests a model needs in the window before its percentile rules apply. */
  minRequests: number;
  /** Median decode tokens/s of a model below this warns; 0 = off. */
  decodeTokensPerSecond: number;
  /** TTFT p95 above this (ms) warns; 0 = off. */
  timeToFirstTokenP95Ms: number;
  /** Queue wait p95 above this (ms) warns; 0 = off. */
  queueP95Ms: number;
  /** Runner memory above this percentage of the memory budget warns; 0 = off. */
  memoryPercent: number;
  /** Event-loop delay p99 above this (ms) warns; 0 = off. */
  eventLoopLagMs: number;
}

export interface RuleInputs {
  /** Each model's stats over the rule window, all priorities merged. */
  models: ReadonlyMap<string, SeriesStats>;
  /** Unexpected runner exits per model within the rule window. */
  crashes: ReadonlyMap<string, number>;
  memory: { usedBytes: number; budgetBytes: number } | undefined;
  eventLoopLagP99Ms: number | undefined;
}

export function buildChecks(settings: WarningSettings, inputs: RuleInputs): WarningCheck[] {
  const checks: WarningCheck[] = [];
  const window = formatDuration(settings.windowMs);
  for (const [model, stats] of inputs.models) {
    const percentile = (
      name: "decode_tokens_per_second" | "time_to_first_token_ms" | "queue_ms",
      q: number,
    ): number | null => {
      const sketch = stats.sketch(name);
      return sketch !== undefined && sketch.count >= settings.minRequests ? sketch.quantile(q) : null;
    };
    if (settings.decodeTokensPerSecond > 0) {
      checks.push({
        key: `decode-speed:${model}`,
        rule: "decode-speed",
        model,
        value: percentile("decode_tokens_per_second", 0.5),
        threshold: settings.decodeTokensPerSecond,
        direction: "below",
        describe: (value) =>
          `Model "${model}" decodes ${formatNumber(value)} tokens/s (median over ${window}), below the ${settings.decodeTokensPerSecond} tokens/s set by --warn-decode-tps.`,
      });
    }
    if (settings.timeToFirstTokenP95Ms > 0) {
      checks.push({
        key: `ttft-p95:${model}`,
        rule: "ttft-p95",
        model,
        value: percentile("time_to_first_token_ms", 0.95),
        threshold: settings.timeToFirstTokenP95Ms,
        direction: "above",
        describe: (value) =>
          `Model "${model}" has a time-to-first-token p95 of ${formatNumber(value)} ms over ${window}, above the ${settings.timeToFirstTokenP95Ms} ms set by --warn-ttft-p95.`,
      });
    }
    if (settings.queueP95Ms > 0) {
      checks.push({
        key: `queue-p95:${model}`,
        rule: "queue-p95",
        model,
        value: percentile("queue_ms", 0.95),
        threshold: settings.queueP95Ms,
        direction: "above",
        describe: (value) =>
          `Requests for model "${model}" waited ${formatNumber(value)} ms in the queue (p95 over ${window}), above the ${settings.queueP95Ms} ms set by --warn-queue-p95.`,
      });
    }
  }
  for (const [model, count] of inputs.crashes) {
    if (count === 0) continue;
    checks.push({
      key: `runner-restart:${model}`,
      rule: "runner-restart",
      model,
      value: count,
      threshold: 0,
      direction: "above",
      holdMs: 0,
      describe: (value) =>
        `The runner of model "${model}" crashed ${formatNumber(value)} time(s) in the last ${window}; requests were failed and the model reloaded.`,
    });
  }
  if (settings.memoryPercent > 0 && inputs.memory !== undefined && inputs.memory.budgetBytes > 0) {
    const { usedBytes, budgetBytes } = inputs.memory;
    checks.push({
      key: "memory",
      rule: "memory",
      model: undefined,
      value: (usedBytes / budgetBytes) * 100,
      threshold: settings.memoryPercent,
      direction: "above",
      describe: (value) =>
        `Runner memory is at ${formatNumber(value)}% of the memory budget (${formatBytes(usedBytes)} of ${formatBytes(budgetBytes)}), above the ${settings.memoryPercent}% set by --warn-memory.`,
    });
  }
  if (settings.eventLoopLagMs > 0 && inputs.eventLoopLagP99Ms !== undefined) {
    checks.push({
      key: "event-loop-lag",
      rule: "event-loop-lag",
      model: undefined,
      value: inputs.eventLoopLagP99Ms,
      threshold: settings.eventLoopLagMs,
      direction: "above",
      describe: (value) =>
        `The main event loop is delayed ${formatNumber(value)} ms (p99), above the ${settings.eventLoopLagMs} ms set by --warn-event-loop-lag: streams and requests stall.`,
    });
  }
  return checks;
}

function formatNumber(value: number | null): string {
  if (value === null) return "n/a";
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** "5m", "90s", "1h30m": how window lengths read in messages. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
