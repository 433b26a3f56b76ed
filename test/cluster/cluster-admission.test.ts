/**
 * The queue bound holds under concurrent admission (issue #18 item 1): admission checks the
 * model queue's length and takes a place in one step in Redis, so a burst through two nodes at
 * once never queues more than --max-queue. Real redis-server, two nodes, FakeEngine.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sleep, waitFor } from "../e2e/helpers.js";
import { startsOn, startTestCluster, type TestCluster } from "./cluster-nodes.testing.js";

const maxQueue = 3;
const burst = 40;
const words = Array.from({ length: 24 }, (_, index) => `w${index}`);

describe("cluster admission under a burst", () => {
  let cluster: TestCluster;
  let redis: Redis;
  let alphaQueue: Queue;
  beforeAll(async () => {
    cluster = await startTestCluster({
      nodes: 2,
      // 24 tokens at 400 ms: the blocker holds the only sequence for ~10 s, longer than the burst.
      models: { alpha: { reply: words.join(" "), tokenDelayMs: 400 } },
      flags: { parallel: "1", "max-queue": String(maxQueue) },
    });
    redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: null });
    alphaQueue = new Queue("rawrxd-model-alpha", { connection: redis });
    // Each node's first request opens its BullMQ queue (script loading); the first loads the
    // model on one node, whose advert the second must see (else placement loads it twice).
    for (const node of cluster.nodes) {
      const warm = await postJson(`${node.url}/api/generate`, {
        model: "alpha",
        prompt: "hi",
        stream: false,
        options: { num_predict: 1 },
      });
      expect(warm.status).toBe(200);
      await warm.text();
      await waitFor(async () => ((await holders()) === 1 ? true : undefined), "alpha in an advert", 10_000);
    }
  });

  /** Nodes whose advert holds alpha, as node a reads them. */
  async function holders(): Promise<number> {
    await sleep(20);
    const queue = (await (await fetch(`${cluster.nodes[0]!.url}/v1/queue`)).json()) as {
      nodes: { models: { name: string }[] }[];
    };
    return queue.nodes.filter((node) => node.models.some((model) => model.name === "alpha")).length;
  }
  afterAll(async () => {
    await alphaQueue?.close();
    redis?.disconnect();
    await cluster?.dispose();
  });

  async function waitingJobs(): Promise<number> {
    const counts = await alphaQueue.getJobCounts("waiting", "prioritized", "delayed");
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  it(`${burst} requests at once through two nodes queue exactly --max-queue ${maxQueue}, the rest 503 queue-full`, async () => {
    // One holder with one sequence: while the blocker runs, nothing leaves the queue.
    expect(await holders()).toBe(1);
    const started = cluster.nodes.map(startsOn);
    const blocker = postJson(
      `${cluster.nodes[0]!.url}/api/generate`,
      { model: "alpha", prompt: "hi", stream: false },
      { headers: { "x-request-id": "blocker" } },
    );
    await waitFor(() => started.some((ids) => ids.includes("blocker")), "the blocker running", 10_000);

    let isBursting = true;
    let mostWaiting = 0;
    const watch = (async () => {
      while (isBursting) {
        mostWaiting = Math.max(mostWaiting, await waitingJobs());
        await sleep(2);
      }
    })();
    const short = { model: "alpha", prompt: "hi", stream: false, options: { num_predict: 1 } };
    const replies = Array.from({ length: burst }, (_, index) =>
      postJson(`${cluster.nodes[index % 2]!.url}/api/generate`, short, {
        headers: { "x-request-id": `burst-${index}` },
      }).then(async (response) => ({ status: response.status, body: await response.text() })),
    );
    const all = await Promise.all(replies);
    isBursting = false;
    await watch;
    expect(all.filter((reply) => reply.status === 200)).toHaveLength(maxQueue);
    const refused = all.filter((reply) => reply.status !== 200);
    expect(refused).toHaveLength(burst - maxQueue);
    expect(refused.every((reply) => reply.status === 503 && reply.body.includes("queue"))).toBe(true);
    // Redis held at most the bound at any moment, and reached it.
    expect(mostWaiting).toBe(maxQueue);
    expect((await blocker).status).toBe(200);
    // Nothing left behind: no waiting job and no admission reservation.
    expect(await waitingJobs()).toBe(0);
    expect(await redis.keys("rawrxd:admitting:*")).toEqual([]);
  });
});
