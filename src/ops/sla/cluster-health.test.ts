import { describe, expect, it } from "vitest";
import { clusterHealthOf, type ClusterHealthInput } from "./cluster-health.js";
import { advert, localStatus } from "./cluster-sla.testing.js";

const now = Date.UTC(2026, 3, 1, 12);
const gib = 1024 ** 3;

function health(adverts: ClusterHealthInput["adverts"], extra: Partial<ClusterHealthInput> = {}) {
  return clusterHealthOf({
    adverts,
    localNodeId: "a",
    localStatus: undefined,
    pinnedModels: ["alpha"],
    memoryEstimates: new Map([["alpha", 2 * gib]]),
    nowMs: now,
    staleAfterMs: 15_000,
    ...extra,
  });
}

describe("the cluster health rule", () => {
  it("is up while every node is up and a node serves each pinned model", () => {
    const result = health([advert("a", now - 1000, [["alpha", "ready"]]), advert("b", now - 2000, [])]);
    expect(result.state).toBe("up");
    expect(result.reasons).toEqual([]);
    expect(result.nodes.map((node) => [node.nodeId, node.state, node.heartbeatAgeSeconds])).toEqual([
      ["a", "up", 1],
      ["b", "up", 2],
    ]);
    expect(result.models).toEqual([
      expect.objectContaining({
        model: "alpha",
        isPinned: true,
        state: "up",
        serving: "ready",
        readyOn: ["a"],
      }),
    ]);
  });

  it("is degraded, not down, when one holder of a pinned model goes stale and another still serves it", () => {
    const result = health([
      advert("a", now - 1000, [["alpha", "ready"]]),
      advert("b", now - 20_000, [["alpha", "ready"]]),
    ]);
    expect(result.state).toBe("degraded");
    expect(result.nodes[1]).toMatchObject({ nodeId: "b", state: "down", reasons: ["no heartbeat for 20 s"] });
    expect(result.models[0]!.readyOn).toEqual(["a"]);
    expect(result.reasons).toEqual(["node b down: no heartbeat for 20 s"]);
  });

  it("is down for a pinned model no live node holds or has room to load", () => {
    const full = { budgetBytes: 8 * gib, usedBytes: 7 * gib };
    const result = health([
      { ...advert("a", now, [["beta", "ready"]]), memory: full },
      advert("b", now - 60_000, [["alpha", "ready"]]),
    ]);
    expect(result.state).toBe("down");
    expect(result.models.find((model) => model.model === "alpha")).toMatchObject({
      state: "down",
      serving: "none",
    });
    expect(result.reasons).toEqual([
      `pinned model alpha: no live accepting node holds it or has ${2 * gib} bytes free to load it`,
    ]);
  });

  it("counts a model held nowhere as servable where a node has room, and a loading holder as serving soon", () => {
    const loadable = health([advert("a", now, [])]);
    expect(loadable.state).toBe("up");
    expect(loadable.models[0]).toMatchObject({
      serving: "loadable",
      loadableOn: ["a"],
      reason: "not loaded; can load on a",
    });
    const loading = health([advert("a", now, [["alpha", "loading"]])]);
    expect(loading.models[0]).toMatchObject({ serving: "loading", loadingOn: ["a"], state: "up" });
  });

  it("leaves draining nodes out of serving and marks them degraded", () => {
    const result = health([
      { ...advert("a", now, [["alpha", "ready"]]), isAccepting: false },
      advert("b", now, [["alpha", "ready"]]),
    ]);
    expect(result.state).toBe("degraded");
    expect(result.nodes[0]).toMatchObject({
      state: "degraded",
      reasons: ["not accepting work (draining or shutting down)"],
    });
    expect(result.models[0]!.readyOn).toEqual(["b"]);
  });

  it("is down when no node accepts work, pinned models or not", () => {
    const result = health([{ ...advert("a", now, []), isAccepting: false }], { pinnedModels: [] });
    expect(result.state).toBe("down");
    expect(result.reasons).toEqual(["no live node accepts work"]);
  });

  it("takes this node's own checks: a failing runner cannot serve its model", () => {
    const status = localStatus([
      { name: "front", kind: "front", status: "pass" },
      { name: "runner:alpha", kind: "runner", status: "fail" },
      { name: "runner:beta", kind: "runner", status: "pass" },
    ]);
    const result = health(
      [
        advert("a", now, [
          ["alpha", "ready"],
          ["beta", "ready"],
        ]),
      ],
      { localStatus: status },
    );
    expect(result.nodes[0]).toMatchObject({
      state: "degraded",
      isLocal: true,
      reasons: ["its own checks say degraded: runner:alpha (fail): broken"],
    });
    expect(result.models.find((model) => model.model === "alpha")).toMatchObject({ state: "down" });
    expect(result.state).toBe("down");
  });

  it("takes a remote node's own state where its advert carries one", () => {
    const result = health([
      advert("a", now, [["alpha", "ready"]]),
      { ...advert("b", now, []), serviceState: "down" },
    ]);
    expect(result.nodes[1]).toMatchObject({ state: "down", reasons: ["its own checks say down"] });
    expect(result.state).toBe("degraded");
  });
});
