import { describe, expect, it } from "vitest";
import type { Token } from "node-llama-cpp";
import { FakeSequence, tokenRun } from "./fake-sequence.testing.js";
import { PreemptedStates } from "./sequence-state.js";

function states(maxBytes = 1024 * 1024): { store: PreemptedStates; logs: string[] } {
  const logs: string[] = [];
  const store = new PreemptedStates({
    maxBytes,
    bytesPerToken: 16,
    log: (_level, message) => logs.push(message),
  });
  return { store, logs };
}

describe("PreemptedStates", () => {
  it("restores a preempted request's state into another sequence and then forgets it", async () => {
    const { store } = states();
    const victim = new FakeSequence(tokenRun(100));
    expect(await store.save("r1", victim.asSequence)).toBe(true);
    victim.contextTokens = tokenRun(5, 1000) as Token[]; // the urgent request took it
    const other = new FakeSequence();
    expect(await store.restore("r1", other.asSequence, tokenRun(101) as Token[])).toBe(true);
    expect(other.contextTokens).toEqual(tokenRun(100));
    expect(store.savedCount).toBe(0);
    expect(await store.restore("r1", other.asSequence, tokenRun(101) as Token[])).toBe(false);
    store.disposeSync();
  });

  it("does not load when the sequence already holds as much of the tokens", async () => {
    const { store } = states();
    const victim = new FakeSequence(tokenRun(50));
    await store.save("r1", victim.asSequence);
    expect(await store.restore("r1", victim.asSequence, tokenRun(51) as Token[])).toBe(false);
    expect(victim.loads).toBe(0);
    expect(store.savedCount).toBe(0);
    store.disposeSync();
  });

  it("refuses a state over the budget and evicts the oldest to fit a new one (the resume re-evaluates)", async () => {
    const { store, logs } = states(100 * 16 + 100);
    expect(await store.save("big", new FakeSequence(tokenRun(200)).asSequence)).toBe(false);
    expect(logs.join()).toContain("over the");
    expect(await store.save("a", new FakeSequence(tokenRun(60)).asSequence)).toBe(true);
    expect(await store.save("b", new FakeSequence(tokenRun(60)).asSequence)).toBe(true);
    expect(store.savedCount).toBe(1);
    expect(await store.restore("a", new FakeSequence().asSequence, tokenRun(61) as Token[])).toBe(false);
    expect(await store.restore("b", new FakeSequence().asSequence, tokenRun(61) as Token[])).toBe(true);
    store.disposeSync();
  });

  it("a failed save keeps nothing and says so", async () => {
    const { store, logs } = states();
    const sequence = new FakeSequence(tokenRun(10));
    sequence.failSave = true;
    expect(await store.save("r1", sequence.asSequence)).toBe(false);
    expect(store.savedCount).toBe(0);
    expect(logs.join()).toContain("disk full");
    store.disposeSync();
  });
});
