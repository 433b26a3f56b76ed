/**
 * One batch per step (ADR 0030): with the gatherer, four sequences of one context decode in
 * batches of four; without it node-llama-cpp 3.21.1 splits them (3 + 1). Also checks that the
 * internal hook the gatherer relies on still sees every decode of the pinned version.
 */
import { getLlama, LlamaLogLevel, type LlamaContext, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecodeGather } from "../../src/engine/runner/decode-gather.js";
import { installSampleGate } from "../../src/engine/runner/sample-gate.js";
import { storiesPath, storyPrompts } from "./helpers.js";

const prompts = storyPrompts;
const tokens = 32;

/** Counts llama_decode batches by size (the addon object is frozen: wrap it in a proxy). */
function countBatches(context: LlamaContext): Map<number, number> {
  const sizes = new Map<number, number>();
  const internal = context as unknown as { _ctx: Record<string | symbol, unknown> };
  internal._ctx = new Proxy(internal._ctx, {
    get(target, property) {
      const value = target[property];
      if (typeof value !== "function") return value;
      if (property === "initBatch")
        return (size: number) => {
          sizes.set(size, (sizes.get(size) ?? 0) + 1);
          return (value as (size: number) => unknown).call(target, size);
        };
      return (value as () => unknown).bind(target);
    },
  });
  return sizes;
}

/** The sequence ids of each llama_decode batch, in the order they were added. */
function recordBatchOrders(context: LlamaContext): number[][] {
  const orders: number[][] = [];
  const internal = context as unknown as { _ctx: Record<string | symbol, unknown> };
  internal._ctx = new Proxy(internal._ctx, {
    get(target, property) {
      const value = target[property];
      if (typeof value !== "function") return value;
      if (property === "initBatch")
        return (size: number) => {
          orders.push([]);
          return (value as (size: number) => unknown).call(target, size);
        };
      if (property === "addToBatch")
        return (sequenceId: number, ...rest: unknown[]) => {
          orders.at(-1)?.push(sequenceId);
          return (value as (...args: unknown[]) => unknown).call(target, sequenceId, ...rest);
        };
      return (value as () => unknown).bind(target);
    },
  });
  return orders;
}

async function generate(
  context: LlamaContext,
  gather: DecodeGather | undefined,
  indexes: number[],
): Promise<string[]> {
  const sequences = indexes.map(() => context.getSequence());
  try {
    return await Promise.all(
      sequences.map(async (sequence, position) => {
        const index = indexes[position]!;
        const out: Token[] = [];
        gather?.join();
        try {
          const prompt = context.model.tokenize(prompts[index]!);
          for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
            out.push(token);
            if (out.length >= tokens) break;
          }
        } finally {
          gather?.leave();
        }
        return context.model.detokenize(out);
      }),
    );
  } finally {
    for (const sequence of sequences) void sequence.dispose();
  }
}

describe("decode gather (real engine, stories260K)", () => {
  let llama: Awaited<ReturnType<typeof getLlama>>;
  let context: LlamaContext;

  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: storiesPath });
    context = await model.createContext({ contextSize: 256, sequences: 4, threads: 1 });
    // As the runner does: without it, parallel samples can exchange two streams' tokens (ADR 0034).
    installSampleGate(context);
  });
  afterAll(async () => llama?.dispose());

  it("decodes four greedy streams in batches of four, with the same text as each alone", async () => {
    const gather = new DecodeGather(context);
    try {
      const alone: string[] = [];
      for (const index of prompts.keys()) alone.push(...(await generate(context, gather, [index])));
      const sizes = countBatches(context);
      const together = await generate(context, gather, [0, 1, 2, 3]);
      expect(together).toEqual(alone);
      // The four prompts in one batch, then one batch of four per further token.
      expect(sizes.get(4)).toBe(tokens - 1);
      expect([...sizes.values()].reduce((sum, count) => sum + count, 0)).toBe(tokens);
      expect(gather.stats.lateBatches).toBe(0);
    } finally {
      gather.uninstall();
    }
  });

  it("without it, node-llama-cpp 3.21.1 splits the four streams' steps (why the gatherer exists)", async () => {
    const sizes = countBatches(context);
    await generate(context, undefined, [0, 1, 2, 3]);
    expect(sizes.get(4) ?? 0).toBeLessThan(tokens - 1);
  });

  it("queues every batch in sequence-id order: one ubatch per step in llama.cpp (ADR 0044)", async () => {
    const gather = new DecodeGather(context);
    try {
      const orders = recordBatchOrders(context);
      await generate(context, gather, [0, 1, 2, 3]);
      expect(orders.filter((order) => order.length === 4)).toHaveLength(tokens);
      for (const order of orders) expect(order).toEqual([...order].sort((left, right) => left - right));
    } finally {
      gather.uninstall();
    }
  });
});
