import type { LlamaContext } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { FakeTime } from "../../core/index.js";
import { DecodeGather } from "./decode-gather.js";

/** A stand-in for LlamaContext's decode queue: records what is queued and each dispatch. */
function fakeContext() {
  const queued: { item: string; settle: () => void }[] = [];
  const dispatches: string[][] = [];
  let pending: string[] = [];
  const context = {
    _decodeTokens(item: string): Promise<string> {
      return new Promise((resolve) => {
        pending.push(item);
        queued.push({ item, settle: () => resolve(item) });
      });
    },
    dispatchPendingBatch(): void {
      dispatches.push(pending);
      pending = [];
    },
  };
  const decode = (item: string): Promise<unknown> =>
    (
      context as unknown as { _decodeTokens: (item: string, mapper: unknown) => Promise<unknown> }
    )._decodeTokens(item, undefined);
  return { context: context as unknown as LlamaContext, queued, dispatches, decode };
}

describe("DecodeGather", () => {
  it("hands the active sequences' requests over as one dispatch once all have asked", () => {
    const fake = fakeContext();
    const gather = new DecodeGather(fake.context, { time: new FakeTime() });
    gather.join();
    gather.join();
    void fake.decode("a");
    expect(fake.dispatches).toEqual([]);
    void fake.decode("b");
    expect(fake.dispatches).toEqual([["a", "b"]]);
    expect(gather.stats).toEqual({ batches: 1, requests: 2, lateBatches: 0 });
  });

  it("tells its owner each change of the active count (the host's thread count follows it)", () => {
    const fake = fakeContext();
    const counts: number[] = [];
    const gather = new DecodeGather(fake.context, {
      time: new FakeTime(),
      onActiveChange: (active) => counts.push(active),
    });
    gather.join();
    gather.join();
    gather.leave();
    gather.leave();
    gather.leave();
    expect(counts).toEqual([1, 2, 1, 0, 0]);
  });

  it("never holds a single active sequence", () => {
    const fake = fakeContext();
    const gather = new DecodeGather(fake.context, { time: new FakeTime() });
    gather.join();
    void fake.decode("a");
    expect(fake.dispatches).toEqual([["a"]]);
  });

  it("waits for a batch in flight to settle, then gives a late sequence one timer turn", async () => {
    const fake = fakeContext();
    const time = new FakeTime();
    const gather = new DecodeGather(fake.context, { time });
    gather.join();
    gather.join();
    void fake.decode("a1");
    void fake.decode("b1");
    // b's sample has not settled: a's next request waits even past a timer turn.
    fake.queued[0]!.settle();
    await Promise.resolve();
    void fake.decode("a2");
    time.advance(1);
    expect(fake.dispatches).toEqual([["a1", "b1"]]);
    // b settles but does not ask again (its reader is slow): a goes alone after one turn.
    fake.queued[1]!.settle();
    await Promise.resolve();
    await Promise.resolve();
    expect(fake.dispatches).toEqual([["a1", "b1"]]);
    time.advance(0);
    expect(fake.dispatches).toEqual([["a1", "b1"], ["a2"]]);
    expect(gather.stats.lateBatches).toBe(1);
  });

  it("stops waiting for a sequence that leaves (done, or waiting for credit)", () => {
    const fake = fakeContext();
    const gather = new DecodeGather(fake.context, { time: new FakeTime() });
    gather.join();
    gather.join();
    void fake.decode("a");
    gather.leave();
    expect(fake.dispatches).toEqual([["a"]]);
  });

  it("queues a batch in sequence-id order (one ubatch in llama.cpp), or in arrival order when asked", () => {
    for (const order of ["sequence", "arrival"] as const) {
      const fake = fakeContext();
      const gather = new DecodeGather(fake.context, { time: new FakeTime(), order });
      for (let index = 0; index < 4; index++) gather.join();
      const decodeSequence = (sequenceId: number): Promise<unknown> =>
        (
          fake.context as unknown as { _decodeTokens: (item: unknown, mapper: unknown) => Promise<unknown> }
        )._decodeTokens({ sequenceId, name: `s${sequenceId}` }, undefined);
      for (const sequenceId of [2, 0, 3, 1]) void decodeSequence(sequenceId);
      const names = fake.dispatches.map((batch) =>
        batch.map((item) => (item as unknown as { name: string }).name),
      );
      expect(names).toEqual(order === "sequence" ? [["s0", "s1", "s2", "s3"]] : [["s2", "s0", "s3", "s1"]]);
    }
  });
});
