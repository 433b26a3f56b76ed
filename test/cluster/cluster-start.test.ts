/**
 * Joining a cluster at start: a node reachable from other machines refuses --cluster without a
 * --cluster-secret; a node whose Redis cannot be reached says so instead of waiting silently.
 */
import { describe, expect, it } from "vitest";
import { startTestServer } from "../e2e/helpers.js";
import { freePort } from "../support/redis-server.js";

describe("joining a cluster at start", () => {
  it("refuses --cluster without --cluster-secret on a non-loopback host", async () => {
    await expect(
      startTestServer({
        flags: { host: "0.0.0.0", "api-keys": "k-admin", cluster: `redis://127.0.0.1:${await freePort()}` },
      }),
    ).rejects.toThrow(/needs a shared --cluster-secret/);
  });

  it("fails with a clear error when the cluster's Redis cannot be reached", async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const failure = await startTestServer({ flags: { cluster: url } }).catch((error: unknown) => error);
    expect(String(failure)).toMatch(/Cannot reach the cluster's Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    expect(String(failure)).not.toContain("hunter2");
  });
});
