/**
 * `node --import tsx bench/engine/speculative-batch-cost.ts [--models stories] [--depths 64,320] [--reps 200]
 *   [--flash auto|on|off] [--build prebuilt|openmp] [--context-size 2048]`
 *
 * What verifying a draft costs in the engine alone (ADR 0049): one llama_decode of n tokens with
 * logits at every position (a draft of n − 1 behind the last token), at a KV depth, then the n
 * cells erased again — n = 1, 2, 4, 8, 16, interleaved (the sampling calls: speculative-probe.ts).
 * `--flash`: llama.cpp's flash attention (default auto, node-llama-cpp's: on, on the CPU; ADR 0057). Reports CPU ms (this process, ggml's thread included) and wall ms per decode and the ratio to
 * n single decodes: the best a fully accepted draft of n − 1 can gain in the decode.
 */
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { prepareModel, type ModelKey } from "../lib/models.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories" },
    depths: { type: "string", default: "64,320" },
    reps: { type: "string", default: "200" },
    flash: { type: "string", default: "auto" },
    build: { type: "string", default: "prebuilt" },
    "context-size": { type: "string", default: "2048" },
  },
});
const sizes = [1, 2, 4, 8, 16];
const reps = Number(values.reps);

interface AddonContext {
  initBatch(size: number): void;
  addToBatch(sequenceId: number, first: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
  decodeBatch(): Promise<void>;
  removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean;
}

/** `--flash auto|on|off`: llama.cpp's flash attention; node-llama-cpp's default is auto (on, on the CPU). */
function parseFlash(text: string): boolean | "auto" {
  if (text === "auto") return "auto";
  if (text === "on" || text === "off") return text === "on";
  throw new Error(`--flash ${text}: expected auto, on or off`);
}

const rows: string[][] = [];
for (const key of values.models.split(",") as ModelKey[]) {
  const model = await prepareModel(key);
  const { llama, context: plainContext } = await openDirectContext({
    modelPath: model.path,
    threads: 1,
    contextSize: Number(values["context-size"]),
    sequences: 1,
    build: values.build === "openmp" ? "openmp" : "prebuilt",
    flashAttention: parseFlash(values.flash),
  });
  const context = plainContext;

  try {
    const sequence = context.getSequence();
    const ctx = (context as unknown as { _ctx: AddonContext })._ctx;
    const sequenceId = (sequence as unknown as { _sequenceId: number })._sequenceId;
    const text = context.model.tokenize(
      "Once upon a time there was a little girl named Lily. She liked to play. ".repeat(40),
    );
    for (const depth of values.depths.split(",").map(Number)) {
      await sequence.clearHistory();
      await sequence.evaluateWithoutGeneratingNewTokens(text.slice(0, depth));
      const cpu = new Map<number, number[]>();
      const wall = new Map<number, number[]>();
      for (let rep = 0; rep < reps; rep++)
        for (const n of rep % 2 === 0 ? sizes : [...sizes].reverse()) {
          const tokens = Uint32Array.from(text.slice(depth, depth + n));
          const before = process.cpuUsage();
          const startedAt = systemTime.monotonicNow();
          ctx.initBatch(n);
          ctx.addToBatch(
            sequenceId,
            depth,
            tokens,
            Uint32Array.from({ length: n }, (_, index) => index),
          );
          await ctx.decodeBatch();
          wall.set(n, [...(wall.get(n) ?? []), systemTime.monotonicNow() - startedAt]);
          const used = process.cpuUsage(before);
          cpu.set(n, [...(cpu.get(n) ?? []), (used.user + used.system) / 1000]);
          ctx.removeTokenCellsFromSequence(sequenceId, depth, depth + n);
        }
      const one = median(wall.get(1)!);
      const oneCpu = median(cpu.get(1)!);
      for (const n of sizes)
        rows.push([
          model.label,
          String(depth),
          String(n),
          formatNumber(median(wall.get(n)!), 3),
          formatNumber(median(cpu.get(n)!), 3),
          formatNumber((n * one) / median(wall.get(n)!), 2),
          formatNumber((n * oneCpu) / median(cpu.get(n)!), 2),
        ]);
    }
  } finally {
    await llama.dispose();
  }
}
console.log(
  formatTable(["model", "KV depth", "batch n", "wall ms", "CPU ms", "n × one ÷ batch (wall)", "(CPU)"], rows),
);
