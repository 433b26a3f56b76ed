/**
 * `npm run bench:peer -- [--models 134m,stories] [--rounds 3] [--reps 3] [--tokens 128]
 *   [--prompt-words 70] [--variants LIST] [--no-build] [--quick]`
 *
 * Issue #17's side-by-side: RawrXD (`rawrxd serve` child process, --threads 1 and 2, other
 * settings at their defaults), node-llama-cpp used directly (sequence.evaluate(), one context of
 * 4 sequences, 1 and 2 threads) and llama.cpp's llama-server (`-c 8192 -np 4`, default threads;
 * also `-t 1`, and `--spec-type ngram-simple` where this build has it), built once from the
 * llama.cpp source node-llama-cpp ships. Interleaved rounds (the variant order rotates each
 * round), each block on a fresh process after a warm-up; workloads: 1 stream (decode tok/s,
 * TTFT), 4 concurrent streams (aggregate tok/s), and a copying prompt (a passage, again, then its
 * start) for speculative decoding. Greedy, streamed /v1/completions from a small Node client.
 * Prints README-ready tables of medians with paired ratios to llama-server and writes
 * bench/results/peer-<time>.json and peer-latest.json. --quick: stories260K, 1 round, 1 rep, 32
 * tokens, 1-thread variants only, no build (llama-server rows n/a when it is not built) — a
 * smoke run. --variants takes keys: llama-server, llama-server-t1, llama-server-spec,
 * rawrxd-t1, rawrxd-t2, direct-t1, direct-t2.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, modelKeys, prepareModel, type BenchModel, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { ensureLlamaServer, llamaServerBinary, supportsNgramSpeculation } from "./llama-server.js";
import { peerVariants, type Variant } from "./peer-variants.js";
import { runBlock } from "./peer-block.js";
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
    "no-build": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
  },
  strict: true,
});
const quick = values.quick;
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const models = (values.models ?? (quick ? "stories" : "134m,stories")).split(",") as ModelKey[];
for (const key of models) {
  if (!modelKeys.includes(key)) throw new Error(`--models takes ${modelKeys.join(", ")}, got "${key}".`);
}
const rounds = Number(values.rounds ?? (quick ? "1" : "3"));
const reps = Number(values.reps ?? (quick ? "1" : "3"));
const maxTokens = Number(values.tokens ?? (quick ? "32" : "128"));
const promptWords = Number(values["prompt-words"]);

const hasLlamaServer =
  values["no-build"] || quick ? existsSync(llamaServerBinary) : await ensureLlamaServer(log);
const hasNgram = hasLlamaServer && (await supportsNgramSpeculation());
let variants = peerVariants({ hasLlamaServer, hasNgram });
// A smoke run on a busy machine: two ggml threads fighting other load for 2 cores can fall to
// ~1 tok/s, so --quick keeps to the 1-thread variants unless --variants names others.
const wanted =
  values.variants?.split(",") ?? (quick ? ["rawrxd-t1", "direct-t1", "llama-server-t1"] : undefined);
if (wanted !== undefined) variants = variants.filter((variant) => wanted.includes(variant.key));
if (!hasLlamaServer)
  log("llama-server is not built (bench/threads/build-llama-bench.sh --server): its rows show n/a");
if (hasLlamaServer && !hasNgram)
  log("this llama-server has no --spec-type ngram-simple: its speculative row shows n/a");

const startedAt = new Date(systemTime.wallNow()).toISOString();
const machine = await describeMachine();
const blocks: BlockResult[] = [];
const prepared: BenchModel[] = [];
for (const key of models) prepared.push(await prepareModel(key));
for (const model of prepared) {
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs first (or right after a build).
    const order: Variant[] = variants.map((_, index) => variants[(index + round) % variants.length]!);
    for (const variant of order) {
      log(`${model.label} round ${round + 1}/${rounds}: ${variant.label}`);
      blocks.push(await runBlock({ model, variant, round, reps, maxTokens, promptWords }));
    }
  }
}

const tables = formatPeerTables(blocks, {
  models: prepared.map((model) => ({ key: model.label, label: model.label })),
  variants,
});
console.log(tables);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "peer", latest: "peer-latest.json", startedAt },
  {
    startedAt,
    kind: quick ? "smoke" : "peer",
    machine,
    settings: { models, rounds, reps, maxTokens, promptWords, hasLlamaServer, hasNgram },
    variants: variants.map(({ key, label, workloads }) => ({ key, label, workloads })),
    blocks,
    tables,
  },
);
console.log(`\nwrote ${path}`);
