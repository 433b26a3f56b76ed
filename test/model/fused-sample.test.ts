/**
 * Decode and sample in one native call (ADR 0051): the local OpenMP build's addon has
 * `decodeBatchAndSample` (patched in at install, compiled by `npm run engine:build`); greedy
 * text must be the same with it and without it, for one stream and for four streams batched
 * together through the runner's sample gate and decode gatherer. CI has no build: the cases that
 * need one are skipped there, and the prebuilt addon must lack the method (the old path).
 */
import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecodeGather } from "../../src/engine/runner/decode-gather.js";
import { storyPrompts } from "./helpers.js";
import {
  isBuilt,
  onBuildTitle,
  openContext,
  openRunnerContext,
  type Flags,
} from "./openmp-context.testing.js";

const prompts = storyPrompts;
const tokens = 48;

interface Streams {
  context: LlamaContext;
  sequences: LlamaContextSequence[];
  gather: DecodeGather;
}

async function generate({ context, sequences, gather }: Streams, indexes: number[]): Promise<string[]> {
  return Promise.all(
    indexes.map(async (index) => {
      const sequence = sequences[index]!;
      await sequence.clearHistory();
      const out: Token[] = [];
      gather.join();
      try {
        for await (const token of sequence.evaluate(context.model.tokenize(prompts[index]!), {
          temperature: 0,
          yieldEogToken: true,
        })) {
          out.push(token);
          if (out.length >= tokens) break;
        }
      } finally {
        gather.leave();
      }
      return context.model.detokenize(out);
    }),
  );
}

describe("fused decode and sample (real engine, stories260K)", () => {
  it("the prebuilt addon lacks decodeBatchAndSample, so the context keeps decode-then-sample", async () => {
    const opened = await openContext("prebuilt");
    try {
      expect((opened.context as unknown as Flags)._ctx.decodeBatchAndSample).toBeUndefined();
    } finally {
      await opened.dispose();
    }
  });

  describe.skipIf(!isBuilt)(onBuildTitle, () => {
    let opened: Awaited<ReturnType<typeof openContext>>;
    let gather: DecodeGather;
    let fused: { calls: number };
    let sequences: LlamaContextSequence[];

    beforeAll(async () => {
      ({ opened, gather, fused } = await openRunnerContext());
      sequences = prompts.map(() => opened.context.getSequence());
    });
    afterAll(async () => opened?.dispose());

    const run = async (isFused: boolean, indexes: number[]): Promise<{ texts: string[]; calls: number }> => {
      (opened.context as unknown as Flags).rawrxdFusedSample = isFused;
      const before = fused.calls;
      const texts = await generate({ context: opened.context, sequences, gather }, indexes);
      return { texts, calls: fused.calls - before };
    };

    it("has the native call", () => {
      expect(
        typeof (opened.context as unknown as Flags)._ctx.decodeBatchAndSample,
        "the local build predates the patch: run npm run engine:build -- --addon",
      ).toBe("function");
    });

    it("gives one stream the same greedy text with the fused call as without it", async () => {
      for (const index of prompts.keys()) {
        const stock = await run(false, [index]);
        const withFused = await run(true, [index]);
        expect(stock.calls).toBe(0);
        // Every step after the prompt's decode samples through the fused call.
        expect(withFused.calls).toBeGreaterThanOrEqual(tokens - 1);
        expect(withFused.texts).toEqual(stock.texts);
      }
    });

    it("gives four batched streams each its own text, the same as alone", async () => {
      const alone: string[] = [];
      for (const index of prompts.keys()) alone.push(...(await run(false, [index])).texts);
      expect(new Set(alone).size).toBe(prompts.length);
      for (let round = 0; round < 5; round += 1) {
        const together = await run(true, [0, 1, 2, 3]);
        expect(together.calls).toBeGreaterThan(0);
        expect(together.texts).toEqual(alone);
      }
    });
  });
});
