/**
 * One priority queue across nodes (issue #18): a high request submitted through one node after
 * normals submitted through others runs before them on the node holding the model; DELETE on a
 * node that neither holds nor runs a request cancels it, queued or running.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, waitFor } from "../e2e/helpers.js";
import { startsOn, startTestCluster, type TestCluster } from "./cluster-nodes.testing.js";

const words = Array.from({ length: 24 }, (_, index) => `w${index}`);

describe("the cluster queue", () => {
  let cluster: TestCluster;
  let startedOnB: string[];
  let redis: Redis;
  let alphaQueue: Queue;
  beforeAll(async () => {
    cluster = await startTestCluster({
      nodes: 3,
      models: { alpha: { reply: words.join(" "), tokenDelayMs: 200 } },
      flags: { parallel: "1" },
    });
    redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: null });
    alphaQueue = new Queue("rawrxd-model-alpha", { connection: redis });
    startedOnB = startsOn(cluster.nodes[1]!);
    const loaded = await postJson(`${cluster.nodes[1]!.url}/api/generate`, { model: "alpha", prompt: "" });
    await loaded.text();
    for (const node of cluster.nodes)
      await waitFor(
        async () => {
          const body = (await (await fetch(`${node.url}/v1/queue`)).json()) as {
            nodes: { nodeId: string; models: unknown[] }[];
          };
          return body.nodes.find((entry) => entry.nodeId === "node-b")?.models.length === 1
            ? true
            : undefined;
        },
        "node b's advert",
        10_000,
      );
    // Each node's first request opens its BullMQ queue (script loading): not during the timed tests.
    for (const node of cluster.nodes) {
      const warm = await postJson(`${node.url}/api/generate`, {
        model: "alpha",
        prompt: "hi",
        stream: false,
        options: { num_predict: 1 },
      });
      await warm.text();
    }
  });
  afterAll(async () => {
    await alphaQueue?.close();
    redis?.disconnect();
    await cluster?.dispose();
  });

  /** Sends a generate through `node` and resolves once its job waits in Redis. */
  /** (An async function returning the pending text would wait for it: it is wrapped.) */
  async function submit(
    node: number,
    id: string,
    { priority, waiting }: { priority: string; waiting: number },
  ): Promise<{ done: Promise<string> }> {
    // The first request runs the whole reply (5 s); the others one token each.
    const options = waiting === 0 ? {} : { options: { num_predict: 1 } };
    const done = postJson(
      `${cluster.nodes[node]!.url}/api/generate`,
      { model: "alpha", prompt: "hi", stream: false, ...options },
      { headers: { "x-request-id": id, "x-priority": priority } },
    ).then((response) => response.text());
    await waitFor(
      async () => {
        const counts = await alphaQueue.getJobCounts("waiting", "prioritized");
        return (counts["waiting"] ?? 0) + (counts["prioritized"] ?? 0) >= waiting ? true : undefined;
      },
      `${id} queued`,
      10_000,
    );
    return { done };
  }

  it("runs a high request submitted after normals (through other nodes) first", async () => {
    const blocker = await submit(0, "blocker", { priority: "normal", waiting: 0 });
    await waitFor(() => startedOnB.includes("blocker"), "blocker running on node b", 10_000);
    const n1 = await submit(0, "n1", { priority: "normal", waiting: 1 });
    const n2 = await submit(2, "n2", { priority: "normal", waiting: 2 });
    const n3 = await submit(0, "n3", { priority: "low", waiting: 3 });
    const h = await submit(2, "h", { priority: "high", waiting: 4 });
    await Promise.all([blocker, n1, n2, n3, h].map((submitted) => submitted.done));
    expect(startedOnB.filter((id) => ["blocker", "n1", "n2", "n3", "h"].includes(id))).toEqual([
      "blocker",
      "h",
      "n1",
      "n2",
      "n3",
    ]);
  });

  it("cancels a queued and a running request with DELETE on a third node", async () => {
    const running = postJson(
      `${cluster.nodes[0]!.url}/api/generate`,
      { model: "alpha", prompt: "hi" },
      { headers: { "x-request-id": "to-cancel-running" } },
    );
    await waitFor(() => startedOnB.includes("to-cancel-running"), "running on node b", 10_000);
    const queued = await submit(0, "to-cancel-queued", { priority: "normal", waiting: 1 });
    const deleteQueued = await fetch(`${cluster.nodes[2]!.url}/v1/requests/to-cancel-queued`, {
      method: "DELETE",
    });
    expect(deleteQueued.status).toBe(200);
    expect(await deleteQueued.json()).toMatchObject({ cancelled: true, state: "queued" });
    expect(await queued.done).toMatch(/cancel/);
    const deleteRunning = await fetch(`${cluster.nodes[2]!.url}/v1/requests/to-cancel-running`, {
      method: "DELETE",
    });
    expect(await deleteRunning.json()).toMatchObject({ cancelled: true, state: "running" });
    const text = await (await running).text();
    const lines = text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { response?: string; error?: string });
    // As on one node: cut short ends with the cancellation, never a normal finish.
    expect(lines.at(-1)?.error).toMatch(/cancel/);
    expect(lines.map((line) => line.response ?? "").join("")).not.toBe(words.join(" "));
    expect(startedOnB).not.toContain("to-cancel-queued");
  });

  it("answers a full model queue (--max-queue 4) as one node does: 429 OpenAI, 503 Ollama, Retry-After", async () => {
    const blocker = await submit(1, "full-blocker", { priority: "normal", waiting: 0 });
    await waitFor(() => startedOnB.includes("full-blocker"), "blocker running", 10_000);
    const queued = [];
    for (let index = 1; index <= 4; index++)
      queued.push(await submit(index % 3, `full-${index}`, { priority: "normal", waiting: index }));
    const openai = await postJson(`${cluster.nodes[0]!.url}/v1/chat/completions`, {
      model: "alpha",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(openai.status).toBe(429);
    expect(openai.headers.get("retry-after")).toBe("2");
    expect(((await openai.json()) as { error: { code: string } }).error.code).toBe("queue-full");
    const ollama = await postJson(`${cluster.nodes[2]!.url}/api/generate`, { model: "alpha", prompt: "hi" });
    expect(ollama.status).toBe(503);
    await Promise.all([blocker, ...queued].map((submitted) => submitted.done));
  });

  it("refuses a request id already in flight anywhere in the cluster", async () => {
    const first = await submit(0, "dup", { priority: "normal", waiting: 0 });
    await waitFor(() => startedOnB.includes("dup"), "dup running", 10_000);
    const second = await postJson(
      `${cluster.nodes[2]!.url}/api/generate`,
      { model: "alpha", prompt: "hi" },
      { headers: { "x-request-id": "dup" } },
    );
    expect(second.status).toBe(400);
    expect(((await second.json()) as { error: string }).error).toMatch(/already in use/);
    expect(await first.done).toContain(words.join(" "));
  });
});
