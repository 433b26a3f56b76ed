import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { RunAhead, runAheadOption } from "./run-ahead.js";

/** A context whose addon records the epochs it is given (the real one: test/model/run-ahead.test.ts). */
function contextWith(
  native: Record<string, unknown> | undefined,
  flags: { fused?: boolean } = {},
): {
  context: LlamaContext;
  epochs: number[];
} {
  const epochs: number[] = [];
  const ctx =
    native === undefined
      ? undefined
      : {
          ...native,
          rawrxdSetRunAheadEpoch: native["rawrxdSetRunAheadEpoch"] && ((e: number) => epochs.push(e)),
        };
  const context = { _ctx: ctx, ...(flags.fused === false ? { rawrxdFusedSample: false } : {}) };
  return { context: context as unknown as LlamaContext, epochs };
}

const patched = { decodeBatchAndSample: () => undefined, rawrxdSetRunAheadEpoch: true };

describe("RunAhead", () => {
  it("is off on an addon without the patch (the prebuilt binary), with the fused call off, or a window of 0", () => {
    expect(
      new RunAhead(contextWith({ decodeBatchAndSample: () => undefined }).context, { coalesceMs: 50 }).isOn,
    ).toBe(false);
    expect(new RunAhead(contextWith(patched, { fused: false }).context, { coalesceMs: 50 }).isOn).toBe(false);
    expect(new RunAhead(contextWith(patched).context, { coalesceMs: 0 }).isOn).toBe(false);
    expect(new RunAhead(contextWith(patched).context, { coalesceMs: 50 }).isOn).toBe(true);
  });

  it("asks for bursts of half the coalescing window, with the epoch a stop moves on", () => {
    const { context, epochs } = contextWith(patched);
    const runAhead = new RunAhead(context, { coalesceMs: 50 });
    expect(runAhead.requestFor(30)).toEqual({ maxSteps: 30, budgetUs: 25_000, epoch: 0 });
    expect(runAhead.requestFor(0)).toBeNull();
    runAhead.stop();
    runAhead.stop();
    expect(epochs).toEqual([1, 2]);
    expect(runAhead.requestFor(5)?.epoch).toBe(2);
  });

  it("stop() does nothing where it is off", () => {
    const { context, epochs } = contextWith({ decodeBatchAndSample: () => undefined });
    new RunAhead(context, { coalesceMs: 50 }).stop();
    expect(epochs).toEqual([]);
  });
});

describe("runAheadOption", () => {
  const runAhead = new RunAhead(contextWith(patched).context, { coalesceMs: 50 });
  const base = {
    runAhead,
    isPlainSampling: true,
    sequence: { needsCheckpoints: false } as unknown as LlamaContextSequence,
    signal: new AbortController().signal,
    isEveryoneDecoding: () => true,
    hasFirstResult: () => true,
    stepsLeft: () => 40,
  };

  it("gives no option to a request that does not sample plainly, a checkpointing sequence, or where it is off", () => {
    expect(runAheadOption({ ...base, isPlainSampling: false })).toEqual({});
    const checkpointing = { needsCheckpoints: true } as unknown as LlamaContextSequence;
    expect(runAheadOption({ ...base, sequence: checkpointing })).toEqual({});
    const off = new RunAhead(contextWith(undefined).context, { coalesceMs: 50 });
    expect(runAheadOption({ ...base, runAhead: off })).toEqual({});
  });

  it("asks for a burst only after the first token, with everyone decoding, not cancelled, with steps left", () => {
    const ask = (overrides: Partial<typeof base>) =>
      runAheadOption({ ...base, ...overrides }).rawrxdRunAhead!();
    expect(ask({})).toEqual({ maxSteps: 40, budgetUs: 25_000, epoch: 0 });
    expect(ask({ hasFirstResult: () => false })).toBeNull();
    expect(ask({ isEveryoneDecoding: () => false })).toBeNull();
    expect(ask({ stepsLeft: () => 0 })).toBeNull();
    const controller = new AbortController();
    controller.abort();
    expect(ask({ signal: controller.signal })).toBeNull();
  });
});
