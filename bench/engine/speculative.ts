/**
 * `npm run bench:speculative -- [--models stories,134m] [--threads 1] [--tokens 128] [--rounds 3] [--draft stories]`
 *
 * Speculative decoding by prompt lookup (issue #17, item 4; ADR 0031), node-llama-cpp used
 * directly as the runner drives it: one sequence without a predictor, one with the runner's
 * prompt-lookup predictor attached (speculation.ts) under "auto" (adaptive) and "input-lookup" (always drafting), greedy,
 * interleaved in each round, on three prompts: copy (a passage the model wrote, repeated, then
 * its start again), free (a story start) and loop (a sentence repeated). Reports tok/s, the
 * ratio to no speculation, drafted and accepted tokens and whether the text is identical.
 * With `--draft MODEL` a "draft" variant drafts with that model beside the target instead
 * (--draft-model, ADR 0041; same Llama, same threads, under "auto"'s adaptive policy).
 * Prints a table and writes bench/results/speculative-*.json.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";
import { systemTime, type GenerateRequest } from "../../src/core/index.js";
import { DraftModel } from "../../src/engine/runner/draft-model.js";
import { maxDraftTokens, startSpeculation } from "../../src/engine/runner/speculation.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories,134m" },
    threads: { type: "string", default: "1" },
    tokens: { type: "string", default: "128" },
    rounds: { type: "string", default: "3" },
    draft: { type: "string", default: "" },
  },
});
const tokens = Number(values.tokens);
const rounds = Number(values.rounds);
const storyStart = "Once upon a time there was a little girl named Lily.";
type Variant = "off" | "auto" | "input-lookup" | "draft";
const variants: readonly Variant[] =
  values.draft === "" ? ["off", "auto", "input-lookup"] : ["off", "auto", "input-lookup", "draft"];
const draftPath = values.draft === "" ? undefined : (await prepareModel(values.draft as ModelKey)).path;
const greedyRequest = { sampling: { temperature: 0 } } as GenerateRequest;

interface Row {
  model: string;
  threads: number;
  workload: string;
  variant: Variant;
  tokPerSecond: number[];
  drafted: number;
  accepted: number;
  identical: boolean;
}

async function generate(
  context: LlamaContext,
  sequence: LlamaContextSequence,
  run: { prompt: Token[]; variant: Variant; draft?: DraftModel | undefined },
): Promise<{ text: string; rate: number; drafted: number; accepted: number }> {
  const { prompt, variant } = run;
  await sequence.clearHistory();
  // As the runner does it: a predictor attached for this generation only (speculation.ts).
  const speculation =
    variant === "off"
      ? undefined
      : startSpeculation({
          mode: variant === "draft" ? "auto" : variant,
          sequence,
          request: greedyRequest,
          grammar: undefined,
          draft: variant === "draft" ? run.draft : undefined,
        });
  const out: Token[] = [];
  const startedAt = systemTime.monotonicNow();
  for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    out.push(token);
    if (out.length >= tokens) break;
  }
  const rate = (out.length / (systemTime.monotonicNow() - startedAt)) * 1000;
  const counts = await speculation?.finish();
  return {
    text: context.model.detokenize(out),
    rate,
    drafted: counts?.draftedTokens ?? 0,
    accepted: counts?.acceptedTokens ?? 0,
  };
}

async function measure(model: { label: string; path: string }, threads: number, rows: Row[]): Promise<void> {
  const { llama, context } = await openDirectContext({
    modelPath: model.path,
    threads,
    contextSize: 2048,
    sequences: 2,
  });
  try {
    const plain = context.getSequence();
    const speculative = context.getSequence();
    const draft =
      draftPath === undefined
        ? undefined
        : await DraftModel.load({
            llama,
            path: draftPath,
            targetSequences: [speculative],
            contextTokens: context.contextSize,
            batchTokens: context.batchSize,
            threads,
            gpuLayers: 0,
            maxDraftTokens,
          });
    const own = await generate(context, plain, {
      prompt: context.model.tokenize(storyStart),
      variant: "off",
    });
    const passage = storyStart + own.text;
    const workloads: Record<string, string> = {
      copy: `${passage}\n${passage}\n${storyStart}`,
      free: "The dog ran to the park with a big red ball. He was very happy and",
      loop: "Lily saw a big red ball in the park. ".repeat(6) + "Lily saw",
    };
    for (let round = 0; round < rounds; round++) {
      for (const [workload, text] of Object.entries(workloads)) {
        const prompt = context.model.tokenize(text);
        let reference = "";
        for (const variant of variants) {
          const result = await generate(context, variant === "off" ? plain : speculative, {
            prompt,
            variant,
            draft,
          });
          if (variant === "off") reference = result.text;
          let row = rows.find(
            (candidate) =>
              candidate.model === model.label &&
              candidate.threads === threads &&
              candidate.workload === workload &&
              candidate.variant === variant,
          );
          if (row === undefined) {
            row = {
              model: model.label,
              threads,
              workload,
              variant,
              tokPerSecond: [],
              drafted: 0,
              accepted: 0,
              identical: true,
            };
            rows.push(row);
          }
          row.tokPerSecond.push(result.rate);
          row.drafted += result.drafted;
          row.accepted += result.accepted;
          row.identical &&= result.text === reference;
        }
      }
    }
  } finally {
    await llama.dispose();
  }
}

const startedAt = new Date(systemTime.wallNow()).toISOString();
const machine = await describeMachine();
const rows: Row[] = [];
for (const key of values.models.split(",") as ModelKey[]) {
  const model = await prepareModel(key);
  for (const threads of values.threads.split(",").map(Number)) await measure(model, threads, rows);
}
/** Median of the per-round ratios to "off" (paired: the same round). */
function pairedRatio(row: Row): number {
  const off = rows.find(
    (other) =>
      other.model === row.model &&
      other.threads === row.threads &&
      other.workload === row.workload &&
      other.variant === "off",
  )!;
  return median(row.tokPerSecond.map((rate, index) => rate / off.tokPerSecond[index]!));
}
console.log(
  formatTable(
    [
      "model",
      "threads",
      "workload",
      "speculation",
      "tok/s (median)",
      "× off (paired)",
      "drafted",
      "accepted",
      "acceptance",
      "same text",
    ],
    rows.map((row) => [
      row.model,
      String(row.threads),
      row.workload,
      row.variant,
      formatNumber(median(row.tokPerSecond), 0),
      formatNumber(pairedRatio(row), 2),
      String(row.drafted),
      String(row.accepted),
      row.drafted === 0 ? "–" : formatNumber(row.accepted / row.drafted, 2),
      row.identical ? "yes" : "NO",
    ]),
  ),
);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "speculative", latest: "speculative-latest.json", startedAt },
  { startedAt, machine, tokens, rounds, rows },
);
console.log(`\nwrote ${path} (smoke figures on a shared machine are indicative only; compare ratios)`);
