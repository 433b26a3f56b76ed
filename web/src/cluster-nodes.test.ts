import { describe, expect, it } from "vitest";
import { clusterNodesOf, clusterSlaOf, modelHolders, nodeRows, type NodeWire } from "./cluster-nodes.js";

const gib = 1024 ** 3;
const now = Date.UTC(2026, 3, 1, 12);

const nodes: NodeWire[] = [
  {
    nodeId: "node-b",
    url: "http://10.0.0.2:11434",
    heartbeatAtMs: now - 20_000,
    isAccepting: false,
    memory: { budgetBytes: 8 * gib, usedBytes: 2 * gib },
    models: [{ name: "alpha", state: "loading", sequences: { total: 0, active: 0 }, queued: { normal: 2 } }],
  },
  {
    nodeId: "node-a",
    url: "http://10.0.0.1:11434",
    heartbeatAtMs: now - 1_500,
    isAccepting: true,
    memory: { budgetBytes: 8 * gib, usedBytes: 4 * gib },
    models: [
      { name: "beta", state: "ready", sequences: { total: 2, active: 0 }, queued: {} },
      { name: "alpha", state: "ready", sequences: { total: 4, active: 3 }, queued: { high: 1, low: 2 } },
    ],
  },
];

describe("the Nodes panel's rows", () => {
  it("finds `nodes` only when /v1/queue carries a list of adverts", () => {
    expect(clusterNodesOf({ models: [] })).toBeUndefined();
    expect(clusterNodesOf({ nodes: "x" })).toBeUndefined();
    expect(clusterNodesOf(null)).toBeUndefined();
    expect(clusterNodesOf({ nodes: [...nodes, { junk: true }] })).toHaveLength(2);
  });

  it("one row per node by id: host, accepting, heartbeat age, memory and its models", () => {
    const rows = nodeRows(nodes, now);
    expect(rows.map((row) => [row.nodeId, row.host, row.accepting, row.heartbeatAge, row.isStale])).toEqual([
      ["node-a", "10.0.0.1:11434", true, "1.5 s", false],
      ["node-b", "10.0.0.2:11434", false, "20.0 s", true],
    ]);
    expect(rows[0]!.memory).toBe("4.0 GiB of 8.0 GiB");
    expect(rows[0]!.memoryFraction).toBe(0.5);
    expect(rows[0]!.models).toEqual([
      { name: "alpha", state: "ready", sequences: "3/4", queued: { high: 1, normal: 0, low: 2 } },
      { name: "beta", state: "ready", sequences: "0/2", queued: { high: 0, normal: 0, low: 0 } },
    ]);
    // A browser clock behind the node's never shows a negative age.
    expect(nodeRows(nodes, now - 60_000)[0]!.heartbeatAge).toBe("0 ms");
  });

  it("per model: which nodes hold it (ready first), sequences and queue summed over nodes", () => {
    expect(modelHolders(nodes)).toEqual([
      {
        model: "alpha",
        holders: [
          { nodeId: "node-a", state: "ready" },
          { nodeId: "node-b", state: "loading" },
        ],
        sequences: "3/4",
        queued: { high: 1, normal: 2, low: 2 },
      },
      {
        model: "beta",
        holders: [{ nodeId: "node-a", state: "ready" }],
        sequences: "0/2",
        queued: { high: 0, normal: 0, low: 0 },
      },
    ]);
  });

  it("reads the cluster SLA section when /v1/sla/status has one", () => {
    expect(clusterSlaOf({ state: "up" })).toBeUndefined();
    const view = clusterSlaOf({
      state: "up",
      cluster: {
        state: "degraded",
        reasons: ["node node-b degraded: not accepting work"],
        nodes: [{ nodeId: "node-b", state: "degraded", reasons: ["not accepting work"] }, { nodeId: 3 }],
      },
    });
    expect(view?.state).toBe("degraded");
    expect([...view!.nodes]).toEqual([["node-b", { state: "degraded", reasons: ["not accepting work"] }]]);
  });
});
