/**
 * The admission script on a real redis-server: a reservation counts until its job exists, a job
 * counts once (not with its reservation too), a released place is free, and the reservation of
 * an origin that died before adding its job expires.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueAdmission, reservationsKey } from "../../src/cluster/queue-admission.js";
import { RedisTestServer } from "../support/redis-server.js";
import { sleep } from "../support/wait-for.js";

describe("QueueAdmission", () => {
  let server: RedisTestServer;
  let redis: Redis;
  let queue: Queue;
  let admission: QueueAdmission;
  beforeAll(async () => {
    server = await RedisTestServer.start({ appendOnly: false });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    queue = new Queue("rawrxd-model-admission", { connection: redis });
    admission = new QueueAdmission(redis);
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await server?.dispose();
  });

  it("reserves up to the bound, counts an added job once, frees released and expired places", async () => {
    expect(await admission.reserve(queue, "r-a", { bound: 2 })).toBeUndefined();
    expect(await admission.reserve(queue, "r-b", { bound: 2 })).toBeUndefined();
    expect(await admission.reserve(queue, "r-c", { bound: 2 })).toBe(2);

    // a's job is added (its reservation not yet released): still two, not three.
    await queue.add("generate", {}, { jobId: "r-a", priority: 2 });
    expect(await admission.reserve(queue, "r-c", { bound: 2 })).toBe(2);
    await admission.release(queue, "r-a");
    expect(await admission.reserve(queue, "r-c", { bound: 2 })).toBe(2);

    // b gives up (placement refused it): its place is free.
    await admission.release(queue, "r-b");
    expect(await admission.reserve(queue, "r-c", { bound: 2 })).toBeUndefined();
    await queue.add("generate", {}, { jobId: "r-c", priority: 1 });
    expect(await admission.reserve(queue, "r-d", { bound: 2 })).toBe(2);

    // An origin that reserved and died: its place returns once the reservation expires.
    await queue.remove("r-c");
    expect(await admission.reserve(queue, "r-dead", { bound: 2, ttlMs: 100 })).toBeUndefined();
    expect(await admission.reserve(queue, "r-d", { bound: 2 })).toBe(2);
    await sleep(150);
    expect(await admission.reserve(queue, "r-d", { bound: 2 })).toBeUndefined();
    await admission.release(queue, "r-d");
    expect(await redis.zrange(reservationsKey(queue.name), "0", "-1")).toEqual([]);
  });
});
