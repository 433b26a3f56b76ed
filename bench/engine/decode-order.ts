/**
 * `npm run bench:decode-order -- [--model 134m] [--threads 1,2] [--steps 48] [--rounds 3]`
 *
 * The native cost of one decode step for 1 and 4 sequences (ADR 0044), straight on the addon
 * (`initBatch`, `addToBatch`, `decodeBatch`; no sampling, no JavaScript dispatch): a batch of 4
 * single tokens in sequence-id order (0,1,2,3) against the same batch in another order
 * (2,0,3,1). llama.cpp without a unified KV cache (node-llama-cpp never asks for one) splits a
 * batch into ubatches of consecutive, increasing sequence ids, so the order decides whether a
 * step is one graph compute or several. Interleaved per round; prints ms per step.
 */
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { prepareModel, type ModelKey } from "../lib/models.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "134m" },
    threads: { type: "string", default: "1,2" },
    steps: { type: "string", default: "48" },
    rounds: { type: "string", default: "3" },
  },
});
const steps = Number(values.steps);
const rounds = Number(values.rounds);

interface Addon {
  initBatch(size: number): void;
  addToBatch(
    sequenceId: number,
    firstTokenIndex: number,
    tokens: Uint32Array,
    logitIndexes: Uint32Array,
  ): Uint32Array;
  decodeBatch(): Promise<void>;
  removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean;
}

const layouts: Record<string, number[]> = {
  "1 sequence": [0],
  "4 in id order (0,1,2,3)": [0, 1, 2, 3],
  "4 out of order (2,0,3,1)": [2, 0, 3, 1],
  "4 reversed (3,2,1,0)": [3, 2, 1, 0],
  "3 with a gap (0,1,3)": [0, 1, 3],
};

async function stepMs(addon: Addon, order: number[]): Promise<number> {
  const times: number[] = [];
  for (let position = 0; position < steps; position++) {
    addon.initBatch(order.length);
    for (const sequenceId of order)
      addon.addToBatch(
        sequenceId,
        position,
        Uint32Array.of(1 + ((position * 7 + sequenceId) % 200)),
        Uint32Array.of(0),
      );
    const startedAt = systemTime.monotonicNow();
    await addon.decodeBatch();
    times.push(systemTime.monotonicNow() - startedAt);
  }
  for (const sequenceId of order) addon.removeTokenCellsFromSequence(sequenceId, 0, steps + 1);
  return median(times.slice(2));
}

const model = await prepareModel(values.model as ModelKey);
const rows: string[][] = [];
for (const threads of values.threads.split(",").map(Number)) {
  const { llama, context } = await openDirectContext({
    modelPath: model.path,
    threads,
    contextSize: 1024,
    sequences: 4,
  });
  const addon = (context as unknown as { _ctx: Addon })._ctx;
  const results = new Map<string, number[]>();
  try {
    for (let round = 0; round < rounds; round++)
      for (const [name, order] of Object.entries(layouts)) {
        const list = results.get(name) ?? [];
        list.push(await stepMs(addon, order));
        results.set(name, list);
      }
  } finally {
    await llama.dispose();
  }
  const single = median(results.get("1 sequence")!);
  for (const [name, list] of results) {
    const ms = median(list);
    const tokens = layouts[name]!.length;
    rows.push([
      model.label,
      String(threads),
      name,
      formatNumber(ms, 2),
      formatNumber((tokens / ms) * 1000, 0),
      formatNumber(ms / single, 2),
    ]);
  }
}
console.log(formatTable(["model", "threads", "batch", "ms per step", "tok/s", "× 1 sequence step"], rows));
