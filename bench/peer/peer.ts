/**
 * `npm run bench:peer -- [--models 134m,stories] [--rounds 3] [--reps 3] [--tokens 128]
 *   [--prompt-words 70] [--variants LIST] [--rows speed,kv] [--spec-threads 1|2]
 *   [--system-words 750] [--no-build] [--quick]`
 *
 * Issue #17's side-by-side, every "Done when" row from one run. Variants: RawrXD as a new user
 * runs it (`rawrxd-default`: no flags, one fresh RAWRXD_HOME per run, its `--threads auto`
 * calibration settled by warm-up requests and reported), `--threads 1` and `2`, `--speculative
 * input-lookup` and `auto` (at --spec-threads, paired with rawrxd-tN); node-llama-cpp used
 * directly (sequence.evaluate(), one context of 4 sequences, 1 and 2 threads); llama.cpp's
 * llama-server (`-c 8192 -np 4`, default threads; also `-t 1`, and `--spec-type ngram-simple`
 * where this build has it), built once from the llama.cpp source node-llama-cpp ships.
 * Interleaved rounds (the variant order rotates each round), each block on a fresh process after
 * a warm-up; workloads: 1 stream (decode tok/s, TTFT), 4 concurrent streams (aggregate tok/s),
 * a copying prompt (the model's own greedy continuation repeated, copy-workload.ts). Greedy,
 * streamed /v1/completions from a small Node client. Then the saved-KV rows (--rows kv, with
 * bench/kv-state's pieces): a restarted server's first request on a ~2,000-token system prompt
 * (134M; 60 words on stories260K's 512-token context) with and without --prompt-cache beside
 * llama-server's, and tokens re-evaluated on resume after preemption. Prints README-ready tables
 * (medians, paired ratios, each target met or missed by how much) and the run's duration;
 * writes bench/results/peer-<time>.json and peer-latest.json. --quick: stories260K, 1 round,
 * 1 rep, 32 tokens, 1-thread variants, no build — a smoke run. --variants takes keys:
 * llama-server, llama-server-t1, llama-server-spec, rawrxd-default, rawrxd-t1, rawrxd-t2,
 * rawrxd-spec-input-lookup, rawrxd-spec-auto, direct-t1, direct-t2; and where `npm run
 * engine:build` ran (unless --no-engine-build): rawrxd-build-default, rawrxd-build-t1,
 * rawrxd-build-t2, direct-build-t1, direct-build-t2 on the local OpenMP build (the prebuilt
 * variants then pass --engine-build prebuilt, as a fresh install runs). Only when named:
 * rawrxd-t1-no-lending, rawrxd-t2-no-lending, and rawrxd-t1-auto, rawrxd-t2-auto,
 * rawrxd-t1-lookup, rawrxd-t2-lookup (speculation on every workload, four streams included).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { hasOpenmpBuild } from "../../src/engine/index.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel, type BenchModel } from "../lib/models.js";
import { modelsArgument } from "../lib/arguments.js";
import { writeResultFiles } from "../lib/results.js";
import { ensureLlamaServer, llamaServerBinary, supportsNgramSpeculation } from "./llama-server.js";
import { extraPeerVariants, peerVariants, referenceKey, type Variant } from "./peer-variants.js";
import { runBlock } from "./peer-block.js";
import { copyWorkloadFor, type CopyWorkload } from "./copy-workload.js";
import { formatKvTables } from "./peer-kv-tables.js";
import { measureKvRows, type KvRows } from "./peer-kv.js";
import { removeDefaultHomes } from "./rawrxd-default.js";
import type { BlockResult } from "./peer-report.js";
import { formatPeerTables } from "./peer-tables.js";

const { values } = parseArgs({
  options: {
    models: { type: "string" },
    rounds: { type: "string" },
    reps: { type: "string" },
    tokens: { type: "string" },
    "prompt-words": { type: "string", default: "70" },
    variants: { type: "string" },
    rows: { type: "string", default: "speed,kv" },
    "spec-threads": { type: "string", default: "1" },
    "system-words": { type: "string", default: "750" },
    "no-build": { type: "boolean", default: false },
    "no-engine-build": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
  },
  strict: true,
});
const quick = values.quick;
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const models = modelsArgument(values.models ?? (quick ? "stories" : "134m,stories"));
const rounds = Number(values.rounds ?? (quick ? "1" : "3"));
const reps = Number(values.reps ?? (quick ? "1" : "3"));
const maxTokens = Number(values.tokens ?? (quick ? "32" : "128"));
const promptWords = Number(values["prompt-words"]);
const sections = values.rows.split(",");
const speculativeThreads = values["spec-threads"] === "2" ? 2 : 1;

const hasLlamaServer =
  values["no-build"] || quick ? existsSync(llamaServerBinary) : await ensureLlamaServer(log);
const hasNgram = hasLlamaServer && (await supportsNgramSpeculation());
// `npm run engine:build` ran here: its variants run beside the prebuilt ones, unless
// --no-engine-build. Either way the prebuilt ones then ask for the prebuilt binary by flag, as a
// fresh install has it (--engine-build auto would take the local build).
const isBuildHere = hasOpenmpBuild();
const hasEngineBuild = !values["no-engine-build"] && isBuildHere;
if (hasEngineBuild) log("the local OpenMP build (npm run engine:build) is here: its variants run too");
let variants = sections.includes("speed")
  ? peerVariants({ hasLlamaServer, hasNgram, speculativeThreads, hasEngineBuild, isBuildHere })
  : [];
// A smoke run on a busy machine: two ggml threads fighting other load for 2 cores can fall to
// ~1 tok/s, so --quick keeps to the 1-thread variants unless --variants names others.
const wanted =
  values.variants?.split(",") ??
  (quick ? ["rawrxd-t1", "rawrxd-spec-input-lookup", "direct-t1", "llama-server-t1"] : undefined);
// Extra variants (extraPeerVariants) run only when named.
if (wanted !== undefined && sections.includes("speed"))
  variants = [...variants, ...extraPeerVariants({ isBuildHere })].filter((variant) =>
    wanted.includes(variant.key),
  );
if (!hasLlamaServer)
  log("llama-server is not built (bench/threads/build-llama-bench.sh --server): its rows show n/a");
if (hasLlamaServer && !hasNgram)
  log("this llama-server has no --spec-type ngram-simple: its speculative row shows n/a");

const startedAt = new Date(systemTime.wallNow()).toISOString();
const runStart = systemTime.monotonicNow();
const machine = await describeMachine();
const blocks: BlockResult[] = [];
const prepared: BenchModel[] = [];
for (const key of models) prepared.push(await prepareModel(key));
// The copying prompt's continuation comes from llama-server at its defaults when it is built.
const copySource = peerVariants({
  hasLlamaServer,
  hasNgram,
  speculativeThreads,
  hasEngineBuild,
  isBuildHere,
}).find((variant) => variant.key === (hasLlamaServer ? referenceKey : "rawrxd-t1"))!;
const copyWorkloads: CopyWorkload[] = [];
const kvRows: KvRows[] = [];
for (const model of prepared) {
  if (variants.length > 0) {
    const workload = await copyWorkloadFor(model, copySource, { maxTokens, log });
    copyWorkloads.push(workload);
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no variant always runs first (or right after a build).
      const order: Variant[] = variants.map((_, index) => variants[(index + round) % variants.length]!);
      for (const variant of order) {
        log(`${model.label} round ${round + 1}/${rounds}: ${variant.label}`);
        blocks.push(
          await runBlock({
            model,
            variant,
            round,
            reps,
            maxTokens,
            promptWords,
            copyPrompt: workload.prompt,
          }),
        );
        if (blocks.at(-1)?.note !== undefined) log(`  ${blocks.at(-1)!.note}`);
      }
    }
  }
  if (sections.includes("kv")) {
    log(`${model.label}: saved KV state (prompt cache after a restart, resume after preemption)`);
    kvRows.push(
      await measureKvRows({
        model,
        // stories260K was trained on 512 tokens: a short system prompt there.
        systemWords: model.key === "stories" ? 60 : Number(values["system-words"]),
        reps: quick ? 1 : 3,
        preemptions: 4,
        hasLlamaServer,
        log,
      }),
    );
  }
}
removeDefaultHomes();
const durationMinutes = (systemTime.monotonicNow() - runStart) / 60_000;

const tables = [
  formatPeerTables(blocks, {
    models: prepared.map((model) => ({ key: model.label, label: model.label })),
    variants,
    copyWorkloads,
  }),
  formatKvTables(kvRows),
]
  .filter((text) => text.length > 0)
  .join("\n\n");
console.log(tables);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "peer", latest: "peer-latest.json", startedAt },
  {
    startedAt,
    kind: quick ? "smoke" : "peer",
    machine,
    settings: {
      models,
      rounds,
      reps,
      maxTokens,
      promptWords,
      hasLlamaServer,
      hasNgram,
      sections,
      speculativeThreads,
      hasEngineBuild,
    },
    durationMinutes,
    variants: variants.map(({ key, label, workloads, baseline }) => ({ key, label, workloads, baseline })),
    copyWorkloads,
    blocks,
    kvRows,
    tables,
  },
);
console.log(`\nThe run took ${durationMinutes.toFixed(1)} minutes; wrote ${path}`);
