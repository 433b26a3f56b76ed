/**
 * The cluster in the metrics (issue #18 item 5): with --cluster, GET /v1/metrics has a `cluster`
 * object and /metrics the rawrxd_cluster_* gauges, each node's view of every node's advert plus
 * the backlog of the Redis queues. Two nodes on a real redis-server, FakeEngine; a single node
 * without --cluster shows neither.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sleep, startTestServer, waitFor } from "../e2e/helpers.js";
import { startTestCluster, type TestCluster } from "./cluster-nodes.testing.js";

const words = Array.from({ length: 24 }, (_, index) => `w${index}`);

/** The value of the series `name` whose labels include `labels` (any order), or undefined. */
function seriesValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const present = new Set((match[2] ?? "").split(","));
    if (Object.entries(labels).every(([key, value]) => present.has(`${key}="${value}"`)))
      return Number(match[3]);
  }
  return undefined;
}

/** The part of the `cluster` object the test reads. */
interface ClusterJson {
  node_id: string;
  sequences: { total: number; active: number };
  queued: { high: number; normal: number; low: number };
  queued_in_redis: { high: number; normal: number; low: number };
  queued_in_redis_by_model: Record<string, unknown>;
  memory: { budget_bytes: number; used_bytes: number };
}

async function metricsJson(url: string): Promise<{ cluster?: ClusterJson }> {
  return (await (await fetch(`${url}/v1/metrics`)).json()) as { cluster?: ClusterJson };
}

describe("the cluster in /v1/metrics and /metrics", () => {
  let cluster: TestCluster;
  let redis: Redis;
  let alphaQueue: Queue;
  beforeAll(async () => {
    cluster = await startTestCluster({
      nodes: 2,
      models: { alpha: { reply: words.join(" "), tokenDelayMs: 500 } },
      flags: { parallel: "1" },
    });
    redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: null });
    alphaQueue = new Queue("rawrxd-model-alpha", { connection: redis });
  });
  afterAll(async () => {
    await alphaQueue?.close();
    redis?.disconnect();
    await cluster?.dispose();
  });

  it("counts both nodes, the model's runner, its sequences and the queue per priority on every node", async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    // The blocker holds the model's one sequence for ~12 s (margin for a loaded CI machine); the
    // others wait in Redis meanwhile.
    const blocker = postJson(`${a.url}/api/generate`, { model: "alpha", prompt: "hi", stream: false });
    await waitFor(
      async () => {
        await sleep(50);
        return (await metricsJson(a.url)).cluster?.sequences.active === 1 ? true : undefined;
      },
      "the blocker running",
      10_000,
    );
    const short = { model: "alpha", prompt: "hi", stream: false, options: { num_predict: 1 } };
    const waiting = [
      postJson(`${a.url}/api/generate`, short, { headers: { "x-priority": "normal" } }),
      postJson(`${b.url}/api/generate`, short, { headers: { "x-priority": "normal" } }),
      postJson(`${b.url}/api/generate`, short, { headers: { "x-priority": "high" } }),
    ];
    await waitFor(
      async () => {
        await sleep(20);
        const counts = await alphaQueue.getJobCounts("waiting", "prioritized");
        return (counts["waiting"] ?? 0) + (counts["prioritized"] ?? 0) === 3 ? true : undefined;
      },
      "three jobs waiting in Redis",
      10_000,
    );
    for (const node of [a, b]) {
      const seen = await waitFor(
        async () => {
          await sleep(50);
          const body = await metricsJson(node.url);
          return body.cluster?.queued_in_redis.high === 1 && body.cluster.queued_in_redis.normal === 2
            ? body.cluster
            : undefined;
        },
        "the Redis backlog in /v1/metrics",
        10_000,
      );
      expect(seen).toMatchObject({
        node_id: node === a ? "node-a" : "node-b",
        nodes: 2,
        accepting_nodes: 2,
        models: 1,
        model_instances: 1,
        sequences: { total: 1, active: 1 },
        queued: { high: 1, normal: 2, low: 0 },
        queued_in_redis: { high: 1, normal: 2, low: 0 },
        queued_on_nodes: { high: 0, normal: 0, low: 0 },
        queued_in_redis_by_model: { alpha: { high: 1, normal: 2, low: 0 } },
      });
      // Memory: the sum of both nodes' adverts as /v1/queue lists them.
      const queue = (await (await fetch(`${node.url}/v1/queue`)).json()) as {
        nodes: { memory: { budgetBytes: number; usedBytes: number } }[];
      };
      const budget = queue.nodes.reduce((sum, advert) => sum + advert.memory.budgetBytes, 0);
      expect(seen.memory.budget_bytes).toBe(budget);
      expect(seen.memory.used_bytes).toBeGreaterThan(0);

      const text = await (await fetch(`${node.url}/metrics`)).text();
      const label = { node: seen.node_id };
      expect(seriesValue(text, "rawrxd_cluster_nodes", label)).toBe(2);
      expect(seriesValue(text, "rawrxd_cluster_nodes_accepting", label)).toBe(2);
      expect(seriesValue(text, "rawrxd_cluster_models", label)).toBe(1);
      expect(seriesValue(text, "rawrxd_cluster_model_instances", label)).toBe(1);
      expect(seriesValue(text, "rawrxd_cluster_sequences", label)).toBe(1);
      expect(seriesValue(text, "rawrxd_cluster_sequences_active", label)).toBe(1);
      const depth = (priority: string, place: string) =>
        seriesValue(text, "rawrxd_cluster_queue_depth", { ...label, priority, place });
      expect([depth("high", "redis"), depth("normal", "redis"), depth("low", "redis")]).toEqual([1, 2, 0]);
      expect(depth("normal", "node")).toBe(0);
      const modelDepth = (priority: string) =>
        seriesValue(text, "rawrxd_cluster_model_queue_depth", { ...label, model: "alpha", priority });
      expect([modelDepth("high"), modelDepth("normal"), modelDepth("low")]).toEqual([1, 2, 0]);
      expect(seriesValue(text, "rawrxd_cluster_memory_budget_bytes", label)).toBe(budget);
      expect(seriesValue(text, "rawrxd_cluster_memory_used_bytes", label)).toBe(seen.memory.used_bytes);
    }
    const replies = await Promise.all([blocker, ...waiting]);
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
    await Promise.all(replies.map((reply) => reply.text()));
    const drained = await waitFor(
      async () => {
        await sleep(50);
        const body = await metricsJson(b.url);
        return body.cluster?.queued.normal === 0 && body.cluster.queued.high === 0 ? body.cluster : undefined;
      },
      "the backlog drained",
      10_000,
    );
    expect(drained.queued_in_redis_by_model).toEqual({});
    const text = await (await fetch(`${b.url}/metrics`)).text();
    expect(text).not.toMatch(/^rawrxd_cluster_model_queue_depth\{/m);
  });

  it("a node without --cluster has no cluster object and no rawrxd_cluster_ series", async () => {
    const single = await startTestServer({ models: { alpha: {} } });
    try {
      expect(await metricsJson(single.url)).not.toHaveProperty("cluster");
      expect(await (await fetch(`${single.url}/metrics`)).text()).not.toContain("rawrxd_cluster_");
    } finally {
      await single.dispose();
    }
  });
});
