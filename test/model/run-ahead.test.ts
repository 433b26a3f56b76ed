/**
 * Run-ahead decoding (ADR 0055): on the local OpenMP build the fused native call goes on
 * decoding a lone sequence on its worker. The text must be what it is without it (greedy and
 * seeded sampling), a caller that stops early must leave the sequence's state as it would be
 * without it, and a new epoch must end a burst between two steps. CI has no build: skipped
 * there with the reason; the prebuilt addon lacks the epoch method.
 */
import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import type { DecodeGather } from "../../src/engine/runner/decode-gather.js";
import { RunAhead, type RunAheadRequest } from "../../src/engine/runner/run-ahead.js";
import { storyPrompts } from "./helpers.js";
import {
  isBuilt,
  onBuildTitle,
  openContext,
  openRunnerContext,
  type Flags,
} from "./openmp-context.testing.js";

const tokens = 64;

interface Sampling {
  temperature: number;
  seed?: number;
}

interface Outcome {
  out: Token[];
  /** The sequence's tokens after the caller stopped (prompt and evaluated output). */
  state: Token[];
  requests: RunAheadRequest[];
}

async function generate(
  context: LlamaContext,
  sequence: LlamaContextSequence,
  options: { prompt: string; take: number; sampling: Sampling; runAhead?: () => RunAheadRequest | null },
): Promise<Outcome> {
  await sequence.clearHistory();
  const requests: RunAheadRequest[] = [];
  const out: Token[] = [];
  const ask = options.runAhead;
  const rawrxdRunAhead =
    ask === undefined
      ? undefined
      : () => {
          const request = out.length === 0 ? null : ask();
          if (request !== null) requests.push(request);
          return request;
        };
  for await (const token of sequence.evaluate(context.model.tokenize(options.prompt), {
    ...options.sampling,
    yieldEogToken: true,
    ...({ rawrxdRunAhead } as object),
  })) {
    out.push(token);
    if (out.length >= options.take || context.model.isEogToken(token)) break;
  }
  return { out, state: [...sequence.contextTokens], requests };
}

function kvMaxPosition(context: LlamaContext, sequence: LlamaContextSequence): number {
  const native = (context as unknown as { _ctx: { getSequenceKvCacheMaxPosition(id: number): number } })._ctx;
  return native.getSequenceKvCacheMaxPosition((sequence as unknown as { _sequenceId: number })._sequenceId);
}

describe("run-ahead decoding (real engine, stories260K)", () => {
  it("the prebuilt addon lacks the epoch, so RunAhead stays off there", async () => {
    const opened = await openContext("prebuilt");
    try {
      expect((opened.context as unknown as Flags)._ctx.rawrxdSetRunAheadEpoch).toBeUndefined();
      expect(new RunAhead(opened.context, { coalesceMs: 50 }).isOn).toBe(false);
    } finally {
      await opened.dispose();
    }
  });

  describe.skipIf(!isBuilt)(onBuildTitle, () => {
    let opened: Awaited<ReturnType<typeof openContext>>;
    let fused: { calls: number };
    let sequence: LlamaContextSequence;
    let others: LlamaContextSequence[];
    let runAhead: RunAhead;
    let gather: DecodeGather;

    beforeAll(async () => {
      ({ opened, gather, fused } = await openRunnerContext());
      sequence = opened.context.getSequence();
      others = [1, 2, 3].map(() => opened.context.getSequence());
      runAhead = new RunAhead(opened.context, { coalesceMs: 50 });
    });
    afterAll(async () => opened?.dispose());

    const bothWays = async (
      prompt: string,
      take: number,
      sampling: Sampling,
    ): Promise<{ stock: Outcome; ahead: Outcome; calls: number }> => {
      const stock = await generate(opened.context, sequence, { prompt, take, sampling });
      const before = fused.calls;
      const ahead = await generate(opened.context, sequence, {
        prompt,
        take,
        sampling,
        runAhead: () => runAhead.requestFor(take),
      });
      return { stock, ahead, calls: fused.calls - before };
    };

    it("is on for this build and a window above 0, off for a window of 0", () => {
      expect(runAhead.isOn, "the local build predates the patch: run npm run engine:build -- --addon").toBe(
        true,
      );
      expect(new RunAhead(opened.context, { coalesceMs: 0 }).isOn).toBe(false);
    });

    it("gives the same greedy text, in far fewer native calls than tokens", async () => {
      for (const prompt of storyPrompts) {
        const { stock, ahead, calls } = await bothWays(prompt, tokens, { temperature: 0 });
        expect(ahead.out).toEqual(stock.out);
        expect(ahead.out.length).toBeGreaterThan(8);
        // Each burst decodes many tokens (a stories260K token takes ~1 ms, a burst up to 25 ms).
        expect(calls).toBeLessThan(ahead.out.length / 2);
        expect(ahead.requests.some((request) => (request.result?.sampled.length ?? 0) > 1)).toBe(true);
      }
    });

    it("gives the same seeded sampled text (the sampler's random numbers are drawn in order)", async () => {
      const { stock, ahead } = await bothWays(storyPrompts[1]!, tokens, { temperature: 0.9, seed: 7 });
      expect(ahead.out).toEqual(stock.out);
    });

    it("leaves the sequence's state as without it when the caller stops early", async () => {
      for (const take of [1, 2, 5, 17]) {
        const { stock, ahead } = await bothWays(storyPrompts[2]!, take, { temperature: 0 });
        expect(ahead.out).toEqual(stock.out);
        expect(ahead.state).toEqual(stock.state);
        expect(sequence.nextTokenIndex).toBe(stock.state.length);
        // The KV cells of tokens decoded ahead and not taken are gone too.
        expect(kvMaxPosition(opened.context, sequence)).toBe(stock.state.length - 1);
      }
    });

    it("runs four batched streams ahead together, each with the text it has alone", async () => {
      const alone: Token[][] = [];
      for (const prompt of storyPrompts)
        alone.push(
          (await generate(opened.context, sequence, { prompt, take: tokens, sampling: { temperature: 0 } }))
            .out,
        );
      const together = async (isAhead: boolean): Promise<{ outs: Token[][]; calls: number }> => {
        const before = fused.calls;
        const outs = await Promise.all(
          [sequence, ...others].map(async (member, index) => {
            gather.join();
            try {
              const outcome = await generate(opened.context, member, {
                prompt: storyPrompts[index]!,
                take: tokens,
                sampling: { temperature: 0 },
                ...(isAhead ? { runAhead: () => runAhead.requestFor(tokens) } : {}),
              });
              return outcome.out;
            } finally {
              gather.leave();
            }
          }),
        );
        return { outs, calls: fused.calls - before };
      };
      const stock = await together(false);
      const ahead = await together(true);
      expect(stock.outs).toEqual(alone);
      expect(ahead.outs).toEqual(alone);
      expect(ahead.calls).toBeLessThan(stock.calls / 2);
    });

    it("ends a burst between two steps when the epoch changes", async () => {
      const requests: RunAheadRequest[] = [];
      const out: Token[] = [];
      await sequence.clearHistory();
      const stopSoon = (): RunAheadRequest | null => {
        if (out.length === 0) return null;
        const request = { ...runAhead.requestFor(requests.length === 0 ? 500 : 20)!, budgetUs: 10_000_000 };
        requests.push(request);
        // Asked while the worker decodes: the request carries the old epoch.
        if (requests.length === 1) systemTime.setTimeout(() => runAhead.stop(), 0);
        return request;
      };
      for await (const token of sequence.evaluate(opened.context.model.tokenize(storyPrompts[3]!), {
        temperature: 0,
        yieldEogToken: true,
        ...({ rawrxdRunAhead: stopSoon } as object),
      })) {
        out.push(token);
        if (out.length >= 300 || opened.context.model.isEogToken(token)) break;
      }
      const first = requests[0]!.result!;
      // 500 steps would take ~0.5 s here; the stop ends it within a few.
      expect(first.sampled.length).toBeLessThan(100);
      // The next request carries the new epoch and runs on.
      expect(requests[1]!.epoch).not.toBe(requests[0]!.epoch);
    });
  });
});
