import { describe, expect, it } from "vitest";
import { busyModel, gib, modelAdvert, nodeAdvert } from "./cluster-adverts.testing.js";
import type { NodeAdvert, PlacementRequest } from "./contract.js";
import { affinityPlacement, createAffinityPlacement, randomPlacement } from "./placement.js";

function place(nodes: NodeAdvert[], model = "alpha", memoryGib = 2) {
  return affinityPlacement({ model, memoryEstimateBytes: memoryGib * gib, nodes });
}

describe("affinityPlacement: holders", () => {
  it("sends a model's requests to the nodes holding it, ready before loading", () => {
    const nodes = [
      nodeAdvert("a", {
        models: [modelAdvert("alpha", { state: "loading", sequences: { total: 0, active: 0 } })],
      }),
      nodeAdvert("b", { models: [modelAdvert("beta")] }),
      nodeAdvert("c", { models: [modelAdvert("alpha")] }),
    ];
    expect(place(nodes)).toEqual({ kind: "resident", nodeIds: ["c", "a"] });
  });

  it("ranks holders by free sequences, then by priority-weighted queue, then by node id", () => {
    const nodes = [
      nodeAdvert("d", { models: [modelAdvert("alpha", { sequences: { total: 4, active: 3 } })] }),
      nodeAdvert("c", {
        models: [busyModel("alpha", 0, { queued: { high: 1, normal: 0, low: 0 } })],
      }),
      nodeAdvert("b", {
        models: [busyModel("alpha", 0, { queued: { high: 0, normal: 0, low: 2 } })],
      }),
      nodeAdvert("a", { models: [modelAdvert("alpha", { sequences: { total: 4, active: 3 } })] }),
      nodeAdvert("e", { models: [modelAdvert("alpha", { sequences: { total: 4, active: 1 } })] }),
    ];
    // e: 3 free; a, d: 1 free (tie → id); b: low×2 = 2 < c: high×1 = 3.
    expect(place(nodes)).toEqual({ kind: "resident", nodeIds: ["e", "a", "d", "b", "c"] });
  });

  it("keeps queueing on a busy holder while its queue is below the threshold", () => {
    const nodes = [nodeAdvert("a", { models: [busyModel("alpha", 7)] }), nodeAdvert("b")];
    expect(place(nodes)).toEqual({ kind: "resident", nodeIds: ["a"] });
  });

  it("loads on another node once every holder is full", () => {
    const nodes = [
      nodeAdvert("a", { models: [busyModel("alpha", 8)] }),
      nodeAdvert("b", { models: [busyModel("alpha", 9)] }),
      nodeAdvert("c"),
    ];
    const placement = place(nodes);
    expect(placement).toMatchObject({ kind: "load", nodeId: "c" });
    expect(placement.kind === "load" && placement.reason).toContain('all 2 holder(s) of "alpha" are full');
  });

  it("counts a loading holder with a long queue as full, so another node loads the model too", () => {
    const loading = (queued: number) =>
      modelAdvert("alpha", { state: "loading", queued: { high: 0, normal: queued, low: 0 } });
    expect(place([nodeAdvert("a", { models: [loading(7)] }), nodeAdvert("b")])).toEqual({
      kind: "resident",
      nodeIds: ["a"],
    });
    expect(place([nodeAdvert("a", { models: [loading(8)] }), nodeAdvert("b")])).toMatchObject({
      kind: "load",
      nodeId: "b",
    });
  });

  it("the fullness threshold is an option", () => {
    const nodes = [nodeAdvert("a", { models: [busyModel("alpha", 4)] }), nodeAdvert("b")];
    const strict = createAffinityPlacement({ queuedPerSequenceLimit: 1 });
    expect(strict({ model: "alpha", memoryEstimateBytes: 2 * gib, nodes })).toMatchObject({
      kind: "load",
      nodeId: "b",
    });
    expect(place(nodes)).toEqual({ kind: "resident", nodeIds: ["a"] });
  });

  it("stays on full holders when no other node has room", () => {
    const nodes = [nodeAdvert("a", { models: [busyModel("alpha", 20)] }), nodeAdvert("b", { budgetGib: 1 })];
    expect(place(nodes)).toEqual({ kind: "resident", nodeIds: ["a"] });
  });

  it("ignores holders that drain or unload the model", () => {
    const nodes = [
      nodeAdvert("a", { models: [modelAdvert("alpha")], isAccepting: false }),
      nodeAdvert("b", { models: [modelAdvert("alpha", { state: "unloading" })] }),
      nodeAdvert("c"),
    ];
    expect(place(nodes)).toMatchObject({ kind: "load", nodeId: "c" });
  });
});

describe("affinityPlacement: loads", () => {
  it("loads where nothing must be evicted before where idle models would go", () => {
    const nodes = [
      nodeAdvert("a", { budgetGib: 4, models: [modelAdvert("beta", { memoryEstimateBytes: 3 * gib })] }),
      nodeAdvert("b", { budgetGib: 4, models: [modelAdvert("gamma", { memoryEstimateBytes: 1 * gib })] }),
    ];
    const placement = place(nodes);
    expect(placement).toMatchObject({ kind: "load", nodeId: "b" });
    expect(placement.kind === "load" && placement.reason).toContain("without evicting");
  });

  it("evicts idle models when no node has free room, never busy ones", () => {
    const nodes = [
      nodeAdvert("a", { budgetGib: 4, models: [busyModel("beta", 0, { memoryEstimateBytes: 3 * gib })] }),
      nodeAdvert("b", { budgetGib: 4, models: [modelAdvert("gamma", { memoryEstimateBytes: 3 * gib })] }),
    ];
    const placement = place(nodes);
    expect(placement).toMatchObject({ kind: "load", nodeId: "b" });
    expect(placement.kind === "load" && placement.reason).toContain("after evicting idle models");
  });

  it("prefers a node not already busy loading another model", () => {
    const loading = modelAdvert("beta", {
      state: "loading",
      loadMs: 5_000,
      sequences: { total: 0, active: 0 },
    });
    const nodes = [
      nodeAdvert("a", { models: [loading] }),
      nodeAdvert("b", { models: [modelAdvert("gamma")] }),
    ];
    expect(place(nodes)).toMatchObject({ kind: "load", nodeId: "b" });
  });

  it("estimates the load from a measured load of the same model elsewhere", () => {
    const nodes = [nodeAdvert("a", { models: [busyModel("alpha", 8, { loadMs: 1234 })] }), nodeAdvert("b")];
    const placement = place(nodes);
    expect(placement.kind === "load" && placement.reason).toContain("~1234 ms");
  });

  it("breaks ties by fewer busy sequences, more free memory, then node id", () => {
    const idle = [nodeAdvert("c"), nodeAdvert("b"), nodeAdvert("a")];
    expect(place(idle)).toMatchObject({ kind: "load", nodeId: "a" });
    const roomier = [nodeAdvert("a", { budgetGib: 8 }), nodeAdvert("b", { budgetGib: 12 })];
    expect(place(roomier)).toMatchObject({ kind: "load", nodeId: "b" });
    const busier = [
      nodeAdvert("a", { models: [modelAdvert("beta", { sequences: { total: 4, active: 2 } })] }),
      nodeAdvert("b", { models: [modelAdvert("gamma", { sequences: { total: 4, active: 1 } })] }),
    ];
    expect(place(busier)).toMatchObject({ kind: "load", nodeId: "b" });
  });

  it("answers none naming the memory needed and the roomiest node's", () => {
    const nodes = [nodeAdvert("a", { budgetGib: 4 }), nodeAdvert("b", { budgetGib: 6 })];
    const placement = place(nodes, "huge", 10);
    expect(placement.kind).toBe("none");
    expect(placement.kind === "none" && placement.reason).toBe(
      'Model "huge" needs 10.0 GiB; the node with the most room, "b", has 6.0 GiB free or evictable ' +
        "of 6.0 GiB. Use a smaller quantization or context, or add a node with more memory.",
    );
  });

  it("answers none when no node accepts work, or there are none", () => {
    const draining = [nodeAdvert("a", { isAccepting: false })];
    expect(place(draining)).toMatchObject({
      kind: "none",
      reason: expect.stringContaining("No node accepts work"),
    });
    expect(place([])).toMatchObject({ kind: "none" });
  });

  it("is deterministic whatever the order of the adverts", () => {
    const nodes = Array.from({ length: 40 }, (_, index) =>
      nodeAdvert(`n${String(index).padStart(2, "0")}`, {
        budgetGib: 4 + (index % 5),
        models: index % 3 === 0 ? [busyModel("alpha", 10)] : [modelAdvert(`m${index % 7}`)],
      }),
    );
    const request: PlacementRequest = { model: "alpha", memoryEstimateBytes: 2 * gib, nodes };
    const reversed = { ...request, nodes: [...nodes].reverse() };
    expect(affinityPlacement(reversed)).toEqual(affinityPlacement(request));
  });
});

describe("randomPlacement", () => {
  const nodes = Array.from({ length: 10 }, (_, index) =>
    nodeAdvert(`n${index}`, { models: index === 0 ? [modelAdvert("alpha")] : [] }),
  );
  const request: PlacementRequest = { model: "alpha", memoryEstimateBytes: 2 * gib, nodes };

  it("repeats its choices for a seed and spreads them over the nodes", () => {
    const draw = (seed: number) => {
      const policy = randomPlacement(seed);
      return Array.from({ length: 200 }, () => {
        const placement = policy(request);
        return placement.kind === "resident"
          ? placement.nodeIds[0]
          : placement.kind === "load"
            ? placement.nodeId
            : "";
      });
    };
    expect(draw(7)).toEqual(draw(7));
    expect(new Set(draw(7)).size).toBe(10);
  });

  it("answers none when no node has room", () => {
    expect(randomPlacement(1)({ ...request, model: "huge", memoryEstimateBytes: 64 * gib }).kind).toBe(
      "none",
    );
  });
});
