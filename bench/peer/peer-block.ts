/**
 * One block of the peer benchmark: a fresh engine of one variant, a warm-up, then its workloads
 * on the same prompts every variant gets in that round (so greedy texts can be compared). The
 * copying prompt is the model's own greedy continuation repeated (copy-workload.ts).
 */
import type { BenchModel } from "../lib/models.js";
import type { Generation } from "./peer-engines.js";
import type { BlockResult } from "./peer-report.js";
import type { Variant } from "./peer-variants.js";

const words = [
  "the", "old", "farmer", "walked", "slowly", "down", "the", "dusty", "road", "toward",
  "the", "quiet", "village", "where", "his", "daughter", "was", "waiting", "with", "bread",
]; // prettier-ignore

/** ~`count` words of plain text; the first word differs per (round, rep, stream), so nothing but BOS is reused. */
export function freePrompt(count: number, tag: string): string {
  return `${tag} ${Array.from({ length: count }, (_, index) => words[index % words.length]).join(" ")}`;
}

export async function runBlock(plan: {
  model: BenchModel;
  variant: Variant;
  round: number;
  reps: number;
  maxTokens: number;
  promptWords: number;
  /** The copying workload's prompt (copy-workload.ts), the same in every block of the model. */
  copyPrompt: string;
}): Promise<BlockResult> {
  const { variant, round, reps, maxTokens, promptWords } = plan;
  const opened = await plan.variant.open(plan.model);
  try {
    const { engine } = opened;
    await engine.generate(freePrompt(promptWords, "warm"), Math.min(16, maxTokens));
    const cpuBefore = await engine.mainCpuMs();
    const generations: BlockResult["generations"] = {};
    const fourAggregate: number[] = [];
    const fourOutput: number[] = [];
    let tokens = 0;
    const count = (generation: Generation): Generation => {
      tokens += generation.tokens;
      return generation;
    };
    if (variant.workloads.includes("single")) {
      generations.single = [];
      for (let rep = 0; rep < reps; rep++) {
        generations.single.push(
          count(await engine.generate(freePrompt(promptWords, `${round}-${rep}`), maxTokens)),
        );
      }
    }
    if (variant.workloads.includes("four")) {
      generations.four = [];
      for (let rep = 0; rep < reps; rep++) {
        const streams = await Promise.all(
          [0, 1, 2, 3].map((stream) =>
            engine.generate(freePrompt(promptWords, `${round}-${rep}-${stream}`), maxTokens),
          ),
        );
        streams.forEach(count);
        generations.four.push(...streams);
        const first = Math.min(...streams.map((generation) => generation.firstTokenAt));
        const last = Math.max(...streams.map((generation) => generation.lastTokenAt));
        const decoded = streams.reduce((sum, generation) => sum + Math.max(0, generation.tokens - 1), 0);
        // A stream that reached the client in one or two socket reads (the server joins tokens
        // that come faster than its write window) carries no timing: n/a, as for one stream.
        const timed = streams.every((generation) => Number.isFinite(generation.decodeTokensPerSecond));
        fourAggregate.push(timed && last > first ? (decoded * 1000) / (last - first) : Number.NaN);
        // vLLM's benchmark_serving "output throughput": every token over the time from the
        // requests sent to the last token, so prompt processing counts the same for every server.
        const sent = Math.min(
          ...streams.map((generation) => generation.firstTokenAt - generation.timeToFirstTokenMs),
        );
        const produced = streams.reduce((sum, generation) => sum + generation.tokens, 0);
        fourOutput.push(last > sent ? (produced * 1000) / (last - sent) : Number.NaN);
      }
    }
    if (variant.workloads.includes("copy")) {
      generations.copy = [];
      for (let rep = 0; rep < reps; rep++) {
        generations.copy.push(count(await engine.generate(plan.copyPrompt, maxTokens)));
      }
    }
    const cpuAfter = await engine.mainCpuMs();
    return {
      model: plan.model.label,
      variant: variant.key,
      round,
      generations,
      fourAggregateTokensPerSecond: fourAggregate,
      fourOutputTokensPerSecond: fourOutput,
      mainCpuMsPerToken: (cpuAfter - cpuBefore) / tokens,
      ...(opened.note === undefined ? {} : { note: opened.note }),
    };
  } finally {
    await opened.stop();
  }
}
