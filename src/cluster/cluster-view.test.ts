import { describe, expect, it } from "vitest";
import { busyModel, gib, modelAdvert, nodeAdvert } from "./cluster-adverts.testing.js";
import { clusterMetrics, clusterQueueJson, clusterView } from "./cluster-view.js";

const nodes = [
  nodeAdvert("n2", {
    models: [
      busyModel("alpha", 3, { queued: { high: 1, normal: 3, low: 0 } }),
      modelAdvert("beta", { sequences: { total: 2, active: 1 } }),
    ],
  }),
  nodeAdvert("n1", {
    budgetGib: 8,
    models: [modelAdvert("alpha", { state: "loading", sequences: { total: 0, active: 0 } })],
    isAccepting: false,
  }),
  nodeAdvert("n3"),
];

describe("clusterView", () => {
  it("lists each node with its models, sequences and queue per priority, by node id", () => {
    const view = clusterView(nodes);
    expect(view.nodes.map((node) => node.nodeId)).toEqual(["n1", "n2", "n3"]);
    expect(view.nodes[1]).toEqual({
      nodeId: "n2",
      isAccepting: true,
      heartbeatAtMs: 1_000,
      memory: { budgetBytes: 16 * gib, usedBytes: 4 * gib },
      models: [
        {
          name: "alpha",
          state: "ready",
          sequences: { total: 4, active: 4 },
          queued: { high: 1, normal: 3, low: 0 },
          memoryEstimateBytes: 2 * gib,
        },
        {
          name: "beta",
          state: "ready",
          sequences: { total: 2, active: 1 },
          queued: { high: 0, normal: 0, low: 0 },
          memoryEstimateBytes: 2 * gib,
        },
      ],
      sequences: { total: 6, active: 5 },
      queued: { high: 1, normal: 3, low: 0 },
    });
    expect(view.nodes[2]).toMatchObject({ models: [], sequences: { total: 0, active: 0 } });
  });

  it("sums each model across its holders, ready holders first", () => {
    const view = clusterView(nodes);
    expect(view.models).toEqual([
      {
        model: "alpha",
        holders: [
          { nodeId: "n2", state: "ready" },
          { nodeId: "n1", state: "loading" },
        ],
        sequences: { total: 4, active: 4 },
        queued: { high: 1, normal: 3, low: 0 },
      },
      {
        model: "beta",
        holders: [{ nodeId: "n2", state: "ready" }],
        sequences: { total: 2, active: 1 },
        queued: { high: 0, normal: 0, low: 0 },
      },
    ]);
    expect(view.sequences).toEqual({ total: 6, active: 5 });
    expect(view.queued).toEqual({ high: 1, normal: 3, low: 0 });
  });

  it("is empty for no nodes", () => {
    expect(clusterView([])).toEqual({
      nodes: [],
      models: [],
      sequences: { total: 0, active: 0 },
      queued: { high: 0, normal: 0, low: 0 },
    });
  });

  it("does not share objects with the adverts", () => {
    const view = clusterView(nodes);
    view.nodes[1]!.models[0]!.queued.high = 99;
    expect(nodes[0]!.models[0]!.queued.high).toBe(1);
  });
});

describe("clusterQueueJson", () => {
  it("is the snake_case wire form of the view", () => {
    const json = clusterQueueJson(clusterView(nodes));
    expect(json.nodes[0]).toEqual({
      node_id: "n1",
      accepting: false,
      heartbeat_at_ms: 1_000,
      memory: { budget_bytes: 8 * gib, used_bytes: 2 * gib },
      sequences: { total: 0, active: 0 },
      queued: { high: 0, normal: 0, low: 0 },
      models: [
        {
          name: "alpha",
          state: "loading",
          sequences: { total: 0, active: 0 },
          queued: { high: 0, normal: 0, low: 0 },
          memory_estimate_bytes: 2 * gib,
        },
      ],
    });
    expect(json.models[0]!.holders).toEqual([
      { node_id: "n2", state: "ready" },
      { node_id: "n1", state: "loading" },
    ]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe("clusterMetrics", () => {
  it("counts nodes, models, runner instances, sequences, queue and memory", () => {
    expect(clusterMetrics(nodes)).toEqual({
      nodes: 3,
      acceptingNodes: 2,
      models: 2,
      modelInstances: 3,
      sequences: { total: 6, active: 5 },
      queued: { high: 1, normal: 3, low: 0 },
      queuedInRedis: { high: 0, normal: 0, low: 0 },
      queuedOnNodes: { high: 1, normal: 3, low: 0 },
      memory: { budgetBytes: 40 * gib, usedBytes: 6 * gib },
    });
  });

  it("adds the backlog of the Redis queues to what the nodes hold", () => {
    const metrics = clusterMetrics(nodes, { high: 2, normal: 0, low: 5 });
    expect(metrics.queued).toEqual({ high: 3, normal: 3, low: 5 });
    expect(metrics.queuedInRedis).toEqual({ high: 2, normal: 0, low: 5 });
    expect(metrics.queuedOnNodes).toEqual({ high: 1, normal: 3, low: 0 });
  });
});
