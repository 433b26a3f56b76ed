/** The cluster tests' real servers start, answer, survive a restart and go (issue #18). */
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresTestServer } from "../support/postgres-server.js";
import { RedisTestServer } from "../support/redis-server.js";
import { waitFor } from "../support/wait-for.js";

describe("test servers for the cluster", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("redis-server keeps an acknowledged write across a restart", async () => {
    const redis = await RedisTestServer.start();
    cleanups.push(() => redis.dispose());
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    cleanups.push(async () => client.disconnect());
    await client.set("rawrxd:test", "kept");
    await redis.restart("SIGKILL");
    expect(
      await waitFor(
        async () => (await client.get("rawrxd:test").catch(() => undefined)) ?? undefined,
        "redis back",
        10_000,
      ),
    ).toBe("kept");
  });

  it("PostgreSQL runs (as an unprivileged user under root) and keeps a committed row across a restart", async () => {
    const postgres = await PostgresTestServer.start();
    cleanups.push(() => postgres.dispose());
    const url = postgres.createDatabase("harness");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("create table t (v text)");
    await client.query("insert into t values ('kept')");
    await client.end();
    await postgres.restart();
    const again = new pg.Client({ connectionString: url });
    await again.connect();
    const result = await again.query<{ v: string }>("select v from t");
    await again.end();
    expect(result.rows.map((row) => row.v)).toEqual(["kept"]);
  });
});
