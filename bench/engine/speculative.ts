/**
 * `npm run bench:speculative -- [--server] [--models stories,134m] [--threads 1] [--tokens 128] [--rounds 3] [--draft stories]`
 *
 * Speculative decoding by prompt lookup (issue #17, item 4; ADR 0031), node-llama-cpp used
 * directly as the runner drives it: one sequence without a predictor, one with the runner's
 * prompt-lookup predictor attached (speculation.ts) under "auto" (adaptive) and "input-lookup" (always drafting), greedy,
 * interleaved in each round, on three prompts: copy (copy-workload.ts: a passage the model
 * copies, then its start again), free (a story start) and loop (a sentence repeated).
 * With `--server`, through the serving path instead: one `rawrxd serve` child per variant
 * (off, auto, input-lookup), streamed greedy /v1/completions, interleaved (speculative-server.ts). Reports tok/s, the
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
import { buildCopyWorkload, freeTextPrompt, loopPrompt, type CopyWorkload } from "./copy-workload.js";
import { formatRows, record, type Row } from "./speculative-rows.js";
import { measureThroughServers, type Sample } from "./speculative-server.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories,134m" },
    threads: { type: "string", default: "1" },
    tokens: { type: "string", default: "128" },
    rounds: { type: "string", default: "3" },
    draft: { type: "string", default: "" },
    server: { type: "boolean", default: false },
  },
});
const tokens = Number(values.tokens);
const rounds = Number(values.rounds);
type Variant = "off" | "auto" | "input-lookup" | "draft";
const variants: readonly Variant[] =
  values.draft === "" ? ["off", "auto", "input-lookup"] : ["off", "auto", "input-lookup", "draft"];
const draftPath = values.draft === "" ? undefined : (await prepareModel(values.draft as ModelKey)).path;
const greedyRequest = { sampling: { temperature: 0 } } as GenerateRequest;

async function generate(
  context: LlamaContext,
  sequence: LlamaContextSequence,
  run: { prompt: Token[]; variant: Variant; draft?: DraftModel | undefined },
): Promise<{ text: string; rate: number; cpuMs: number; drafted: number; accepted: number }> {
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
  // This process's CPU time (JavaScript and ggml's threads): other load hardly moves it.
  const cpuBefore = process.cpuUsage();
  const startedAt = systemTime.monotonicNow();
  for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    out.push(token);
    if (out.length >= tokens) break;
  }
  const rate = (out.length / (systemTime.monotonicNow() - startedAt)) * 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const counts = await speculation?.finish();
  return {
    text: context.model.detokenize(out),
    rate,
    cpuMs: (cpu.user + cpu.system) / 1000,
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
            flashAttention: "auto",
          });
    const copy = await buildCopyWorkload(
      async (prompt) =>
        (await generate(context, plain, { prompt: context.model.tokenize(prompt), variant: "off" })).text,
      { maxTokens: tokens },
    );
    copyWorkloads.push({ model: model.label, ...copy });
    const workloads: Record<string, string> = { copy: copy.prompt, free: freeTextPrompt, loop: loopPrompt };
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
          record(
            rows,
            { model: model.label, threads, workload, variant },
            { ...result, identical: result.text === reference },
          );
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
const copyWorkloads: (CopyWorkload & { model: string })[] = [];
/** Server path: every request's figures (the texts included), for a closer look. */
const serverSamples: (Sample & { model: string; threads: number })[] = [];
for (const key of values.models.split(",") as ModelKey[]) {
  const model = await prepareModel(key);
  for (const threads of values.threads.split(",").map(Number)) {
    if (values.server) await measureServer(model, threads);
    else await measure(model, threads, rows);
  }
}

async function measureServer(
  model: { key: ModelKey; label: string; path: string },
  threads: number,
): Promise<void> {
  const { samples, copy } = await measureThroughServers({
    model,
    threads,
    tokens,
    rounds,
    variants: ["off", "auto", "input-lookup"],
  });
  copyWorkloads.push({ model: model.label, ...copy });
  serverSamples.push(...samples.map((sample) => ({ model: model.label, threads, ...sample })));
  for (const sample of samples) {
    const reference = samples.find(
      (other) =>
        other.workload === sample.workload && other.round === sample.round && other.variant === "off",
    )!;
    record(
      rows,
      { model: model.label, threads, workload: sample.workload, variant: sample.variant },
      { ...sample, rate: sample.tokensPerSecond, identical: sample.text === reference.text },
    );
  }
}
for (const copy of copyWorkloads)
  console.log(
    `copy workload, ${copy.model}: ${copy.isFixedPoint ? "fixed point" : "no fixed point"} after ${copy.iterations} iteration(s), continuation copies ${copy.copiedCharacters} of ${copy.passage.length} passage characters`,
  );
console.log(formatRows(rows));
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "speculative", latest: "speculative-latest.json", startedAt },
  {
    startedAt,
    machine,
    path: values.server ? "server" : "direct",
    tokens,
    rounds,
    copyWorkloads,
    rows,
    serverSamples,
  },
);
console.log(`\nwrote ${path} (smoke figures on a shared machine are indicative only; compare ratios)`);
