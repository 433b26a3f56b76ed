/**
 * The peer benchmark's numbers: per block (one variant, one round) the median of each workload,
 * then per variant the median over rounds and the paired ratio — each round's value over the
 * reference's value in the same round, median over rounds (issue #17: "ratios from one run").
 */
import { median } from "../lib/stats.js";
import { formatNumber } from "../lib/table.js";
import type { Generation } from "./peer-engines.js";

export type Workload = "single" | "four" | "copy";

export interface BlockResult {
  model: string;
  variant: string;
  round: number;
  /** Workload → generations (four: every stream of every rep). */
  generations: Partial<Record<Workload, Generation[]>>;
  /** four: Σ(tokens − 1) ÷ (last token of any stream − first token of any stream), per rep. */
  fourAggregateTokensPerSecond: number[];
  /** four: Σ tokens ÷ (last token of any stream − requests sent), per rep (vLLM's output throughput). */
  fourOutputTokensPerSecond?: number[];
  /** Serving main process CPU ms per streamed token over the block's measured generations. */
  mainCpuMsPerToken: number;
  /** What the variant reported about this start (the thread count `auto` chose). */
  note?: string;
}

export type Metric =
  "decode" | "ttft" | "aggregate" | "output" | "copyDecode" | "cpuPerToken" | "acceptance" | "freeAcceptance";

/** The block's value of a metric (median over its samples); NaN when the block did not run it. */
export function blockValue(block: BlockResult, metric: Metric): number {
  const single = block.generations.single ?? [];
  const copy = block.generations.copy ?? [];
  switch (metric) {
    case "decode":
      return median(single.map((generation) => generation.decodeTokensPerSecond));
    case "ttft":
      return median(single.map((generation) => generation.timeToFirstTokenMs));
    case "aggregate":
      return median(block.fourAggregateTokensPerSecond);
    case "output":
      return median(block.fourOutputTokensPerSecond ?? []);
    case "copyDecode":
      return median(copy.map((generation) => generation.decodeTokensPerSecond));
    case "cpuPerToken":
      return block.mainCpuMsPerToken;
    case "acceptance":
      return acceptance(copy);
    case "freeAcceptance":
      return acceptance(single);
  }
}

/** Accepted ÷ drafted over the generations; NaN where the server reported no drafts. */
function acceptance(generations: readonly Generation[]): number {
  const drafted = generations.reduce((sum, generation) => sum + (generation.draftedTokens ?? Number.NaN), 0);
  const accepted = generations.reduce(
    (sum, generation) => sum + (generation.acceptedTokens ?? Number.NaN),
    0,
  );
  return drafted > 0 ? accepted / drafted : Number.NaN;
}

/** "accepted/drafted (share)" over every block of a variant, "n/a" where the server reported none. */
export function acceptanceText(
  blocks: readonly BlockResult[],
  selection: { model: string; variant: string; workload: "single" | "copy" },
): string {
  let drafted = 0;
  let accepted = 0;
  let reported = false;
  for (const block of blocks) {
    if (block.model !== selection.model || block.variant !== selection.variant) continue;
    for (const generation of block.generations[selection.workload] ?? []) {
      if (generation.draftedTokens === undefined) continue;
      reported = true;
      drafted += generation.draftedTokens;
      accepted += generation.acceptedTokens ?? 0;
    }
  }
  if (!reported) return "n/a";
  return `${accepted}/${drafted}${drafted > 0 ? ` (${(accepted / drafted).toFixed(2)})` : ""}`;
}

export interface Cell {
  /** Median over rounds. */
  value: number;
  /** Median over rounds of value ÷ the reference's value in the same round; NaN without one. */
  ratio: number;
}

export function cell(
  blocks: readonly BlockResult[],
  selection: {
    model: string;
    variant: string;
    metric: Metric;
    reference?: string | undefined;
    /** The reference's metric when it differs (4-stream aggregate over 1-stream decode). */
    referenceMetric?: Metric | undefined;
  },
): Cell {
  const own = blocks.filter(
    (block) => block.model === selection.model && block.variant === selection.variant,
  );
  const value = median(own.map((block) => blockValue(block, selection.metric)));
  if (selection.reference === undefined) return { value, ratio: Number.NaN };
  const ratios = own.map((block) => {
    const reference = blocks.find(
      (other) =>
        other.model === block.model && other.variant === selection.reference && other.round === block.round,
    );
    return reference === undefined
      ? Number.NaN
      : blockValue(block, selection.metric) /
          blockValue(reference, selection.referenceMetric ?? selection.metric);
  });
  return { value, ratio: median(ratios) };
}

export function formatCell(value: Cell, digits: number): string {
  if (!Number.isFinite(value.value)) return "n/a";
  const ratio = Number.isFinite(value.ratio) ? ` (${value.ratio.toFixed(2)}×)` : "";
  return `${formatNumber(value.value, digits)}${ratio}`;
}

/** A Markdown table (README-ready): a header row, a separator, the rows. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Whether greedy text matched between two variants of the same prompts (speculation must not change it): "same/compared". */
export function sameGreedyText(
  blocks: readonly BlockResult[],
  pair: { model: string; left: string; right: string; workload?: "single" | "copy" },
): string {
  const workload = pair.workload ?? "copy";
  let compared = 0;
  let same = 0;
  const { model, left, right } = pair;
  for (const block of blocks.filter((b) => b.model === model && b.variant === left)) {
    const other = blocks.find((b) => b.model === model && b.variant === right && b.round === block.round);
    const ours = block.generations[workload] ?? [];
    const theirs = other?.generations[workload] ?? [];
    ours.forEach((generation, index) => {
      const match = theirs[index];
      if (match === undefined) return;
      compared += 1;
      if (match.text === generation.text) same += 1;
    });
  }
  return compared === 0 ? "n/a" : `${same}/${compared}`;
}
