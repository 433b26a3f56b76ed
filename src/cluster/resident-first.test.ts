import { describe, expect, it } from "vitest";
import type { NodeAdvert } from "./contract.js";
import { residentFirstPlacement } from "./resident-first.js";

function node(nodeId: string, free: number, models: { name: string; active: number }[] = []): NodeAdvert {
  return {
    nodeId,
    url: `http://${nodeId}`,
    heartbeatAtMs: 0,
    startedAtMs: 0,
    version: "test",
    memory: { budgetBytes: free, usedBytes: 0 },
    isAccepting: true,
    models: models.map(({ name, active }) => ({
      name,
      state: "ready",
      sequences: { total: 4, active },
      queued: { high: 0, normal: 0, low: 0 },
      memoryEstimateBytes: 0,
      averageServiceMs: null,
      loadMs: null,
    })),
  };
}

describe("residentFirstPlacement", () => {
  it("sends a model's requests to its holders, most free sequences first", () => {
    const nodes = [
      node("a", 10, [{ name: "m", active: 3 }]),
      node("b", 10, [{ name: "m", active: 1 }]),
      node("c", 99),
    ];
    expect(residentFirstPlacement({ model: "m", memoryEstimateBytes: 5, nodes })).toEqual({
      kind: "resident",
      nodeIds: ["b", "a"],
    });
  });

  it("loads on the accepting node with most free memory that fits, else none", () => {
    const nodes = [node("a", 10), node("b", 50), { ...node("c", 99), isAccepting: false }];
    expect(residentFirstPlacement({ model: "m", memoryEstimateBytes: 20, nodes })).toMatchObject({
      kind: "load",
      nodeId: "b",
    });
    expect(residentFirstPlacement({ model: "m", memoryEstimateBytes: 60, nodes }).kind).toBe("none");
  });
});
