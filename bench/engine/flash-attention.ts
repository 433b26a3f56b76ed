/**
 * `npm run bench:flash-attention [-- --heads 16,32,64,128] [--depths 320,1024] [--reps 20] [--threads 1]`
 *
 * What llama.cpp's flash attention does to the engine on the CPU, by head width (ADR 0057):
 * stories260K (8 key values per head), synthetic models of 512 wide with 16–128 per head
 * (6 blocks, Q8_0, written once to bench/.models/head-width), and the synthetic 134M model (64). Each model
 * is loaded once with two contexts, flash attention on and off, filled to the same KV depth; then,
 * interleaved, one token (a decode step), 16 tokens (a verified draft) and 256 tokens (a prompt)
 * are decoded at that depth and erased again. Prints ms per decode and the ratio on ÷ off
 * (> 1: off is faster); writes bench/results/flash-attention-*.json.
 */
import { mkdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { LlamaContext } from "node-llama-cpp";
import { systemTime } from "../../src/core/index.js";
import { createLlamaModelContents, syntheticModelShapes, writeGguf } from "../../src/gguf/index.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, modelsDirectory, prepareModel } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const { values } = parseArgs({
  options: {
    heads: { type: "string", default: "16,32,64,128" },
    depths: { type: "string", default: "320,1024" },
    reps: { type: "string", default: "20" },
    threads: { type: "string", default: "1" },
  },
});
const sizes = [1, 16, 256];
const reps = Number(values.reps);
const threads = Number(values.threads);
const startedAt = new Date(systemTime.wallNow()).toISOString();

interface AddonContext {
  initBatch(size: number): void;
  addToBatch(sequenceId: number, first: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
  decodeBatch(): Promise<void>;
  removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean;
}

/** A 512-wide, 6-block model with `keyLength` values per head; written once. */
async function headWidthModel(keyLength: number): Promise<{ label: string; path: string }> {
  // A folder of their own: bench/.models is the catalog of the servers other suites start.
  const path = join(modelsDirectory, "head-width", `synthetic-head${keyLength}.gguf`);
  if ((await stat(path).catch(() => undefined)) === undefined) {
    await mkdir(dirname(path), { recursive: true });
    const heads = 512 / keyLength;
    const shape = {
      ...syntheticModelShapes["llama-134m"],
      layers: 6,
      embeddingLength: 512,
      headCount: heads,
      headCountKv: heads,
      feedForwardLength: 1024,
      name: `synthetic-head${keyLength}`,
    };
    await writeGguf(path, createLlamaModelContents(shape));
  }
  return { label: `synthetic 512 wide, ${keyLength} per head`, path };
}

interface Row {
  model: string;
  keyLength: number;
  depth: number;
  tokens: number;
  onMs: number;
  offMs: number;
}

/** Decodes `n` tokens at `depth` with logits for the last one and erases them: ms of wall time. */
async function decodeAt(
  side: { context: LlamaContext; id: number },
  depth: number,
  tokens: number[],
): Promise<number> {
  const ctx = (side.context as unknown as { _ctx: AddonContext })._ctx;
  const sequenceId = side.id;
  const startedMs = systemTime.monotonicNow();
  ctx.initBatch(tokens.length);
  ctx.addToBatch(sequenceId, depth, Uint32Array.from(tokens), Uint32Array.of(tokens.length - 1));
  await ctx.decodeBatch();
  const ms = systemTime.monotonicNow() - startedMs;
  ctx.removeTokenCellsFromSequence(sequenceId, depth, depth + tokens.length);
  return ms;
}

async function measure(model: { label: string; path: string }, keyLength: number): Promise<Row[]> {
  const depths = values.depths.split(",").map(Number);
  const contextSize = Math.max(...depths) + Math.max(...sizes) + 64;
  const opened = await openDirectContext({
    modelPath: model.path,
    threads,
    contextSize,
    sequences: 1,
    flashAttention: true,
  });
  try {
    const on = opened.context;
    const off = await on.model.createContext({ contextSize, sequences: 1, threads, flashAttention: false });
    const text = on.model.tokenize(
      "Once upon a time there was a little girl named Lily. She liked to play. ".repeat(200),
    );
    const rows: Row[] = [];
    for (const depth of depths) {
      const sides = [on, off].map((context) => {
        const sequence = context.getSequence();
        return { context, sequence, id: (sequence as unknown as { _sequenceId: number })._sequenceId };
      });
      for (const side of sides) await side.sequence.evaluateWithoutGeneratingNewTokens(text.slice(0, depth));
      const times = new Map<string, number[]>();
      for (let rep = 0; rep < reps; rep++) {
        for (const n of sizes) {
          const order = rep % 2 === 0 ? sides : [...sides].reverse();
          for (const side of order) {
            const ms = await decodeAt(side, depth, text.slice(depth, depth + n));
            const key = `${side.context === on ? "on" : "off"}-${n}`;
            times.set(key, [...(times.get(key) ?? []), ms]);
          }
        }
      }
      for (const side of sides) await side.sequence.dispose();
      for (const n of sizes)
        rows.push({
          model: model.label,
          keyLength,
          depth,
          tokens: n,
          onMs: median(times.get(`on-${n}`)!),
          offMs: median(times.get(`off-${n}`)!),
        });
    }
    await off.dispose();
    return rows;
  } finally {
    await opened.llama.dispose();
  }
}

const rows: Row[] = [];
const stories = await prepareModel("stories");
rows.push(...(await measure(stories, 8)));
for (const keyLength of values.heads.split(",").filter(Boolean).map(Number))
  rows.push(...(await measure(await headWidthModel(keyLength), keyLength)));
rows.push(...(await measure(await prepareModel("134m"), 64)));

console.log(
  formatTable(
    ["model", "per head", "KV depth", "tokens", "flash on ms", "flash off ms", "on ÷ off (> 1: off faster)"],
    rows.map((row) => [
      row.model,
      String(row.keyLength),
      String(row.depth),
      String(row.tokens),
      formatNumber(row.onMs, 3),
      formatNumber(row.offMs, 3),
      formatNumber(row.onMs / row.offMs, 2),
    ]),
  ),
);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "flash-attention", latest: "flash-attention-latest.json", startedAt },
  { startedAt, kind: "flash-attention", machine: await describeMachine(), settings: { threads, reps }, rows },
);
console.log(`wrote ${path}`);
