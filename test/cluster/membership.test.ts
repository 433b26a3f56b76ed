/**
 * Membership on a real redis-server: adverts by heartbeat with a time-to-live; a node that stops
 * heartbeating is out within the ttl, one that closes is out at once.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisMembership } from "../../src/cluster/index.js";
import type { NodeAdvert } from "../../src/cluster/index.js";
import { FakeTime, silentLogger, systemTime, type TimePort } from "../../src/core/index.js";
import { RedisTestServer } from "../support/redis-server.js";
import { waitFor } from "../support/wait-for.js";

const advert = (nodeId: string): NodeAdvert => ({
  nodeId,
  url: `http://127.0.0.1/${nodeId}`,
  heartbeatAtMs: 0,
  startedAtMs: 0,
  version: "test",
  models: [],
  memory: { budgetBytes: 1, usedBytes: 0 },
  isAccepting: true,
});

describe("RedisMembership", () => {
  let redis: RedisTestServer;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await RedisTestServer.start({ appendOnly: false });
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.dispose();
  });

  function member(nodeId: string, time: TimePort, ttlMs: number): RedisMembership {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    clients.push(client);
    return new RedisMembership({
      redis: client,
      nodeId,
      advert: () => advert(nodeId),
      time,
      logger: silentLogger,
      heartbeatMs: 50,
      ttlMs,
    });
  }

  it("sees a silent node leave within its ttl and a closed one at once", async () => {
    const watcher = member("watcher", systemTime, 2000);
    const changes: string[] = [];
    watcher.onChange(({ nodeId, kind }) => changes.push(`${nodeId} ${kind}`));
    // FakeTime never advanced: its node writes its first advert and then falls silent.
    const silent = member("silent", new FakeTime(), 300);
    const closing = member("closing", systemTime, 2000);
    await silent.start();
    await closing.start();
    await watcher.start();
    expect((await watcher.nodes()).map((node) => node.nodeId)).toEqual(["closing", "silent", "watcher"]);
    await closing.close();
    await waitFor(() => changes.includes("closing left"), "closing to leave", 1000);
    await waitFor(() => changes.includes("silent left"), "silent to leave", 2000);
    expect(watcher.latest.map((node) => node.nodeId)).toEqual(["watcher"]);
    await watcher.close();
  });
});
