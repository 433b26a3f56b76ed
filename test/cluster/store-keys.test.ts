/**
 * API keys with --store (issue #18 item 4, docs/decisions/0038): PostgreSQL is the authority and
 * every node's SQLite a synchronous replica. A key created on one node works on another; a key
 * revoked on one is refused on every other within a second (real time); a node keeps checking
 * keys from its copy while PostgreSQL is down and catches up when it is back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AppError, systemTime } from "../../src/core/index.js";
import { ApiKeyStore, Database } from "../../src/store/index.js";
import { waitFor } from "../support/wait-for.js";
import { StoreFixture } from "./store.testing.js";

const fixture = new StoreFixture();
beforeAll(() => fixture.start());
afterEach(() => fixture.cleanup());
afterAll(() => fixture.dispose());

/** Milliseconds until `probe` holds (at most `timeoutMs`). */
async function timeUntil(probe: () => boolean, what: string, timeoutMs: number): Promise<number> {
  const start = systemTime.monotonicNow();
  await waitFor(probe, what, timeoutMs);
  return systemTime.monotonicNow() - start;
}

describe("API keys on PostgreSQL", () => {
  it("a key created on node 1 works on node 2; revoked on node 2, node 1 refuses it within 1 s", async () => {
    const url = fixture.database("keys_two_nodes");
    const one = await fixture.node(url);
    const two = await fixture.node(url);
    const { key, view } = await one.store.keys.create({ name: "ci", role: "user" });
    expect(one.store.keys.verify(key).status).toBe("valid");
    const arrived = await timeUntil(
      () => two.store.keys.verify(key).status === "valid",
      "the key on node 2",
      1000,
    );
    expect(arrived).toBeLessThan(1000);
    expect(two.store.keys.get(view.id)).toMatchObject({ name: "ci", role: "user", maxPriority: "high" });

    expect(await two.store.keys.revoke(view.id)).toMatchObject({ id: view.id });
    expect(two.store.keys.verify(key).status).toBe("revoked");
    const refused = await timeUntil(
      () => one.store.keys.verify(key).status === "revoked",
      "the revocation on node 1",
      1000,
    );
    expect(refused).toBeLessThan(1000);
    // The authority agrees.
    const client = await fixture.client(url);
    const rows = await client.query<{ revoked_at: string | null }>(
      "SELECT revoked_at FROM api_keys WHERE id = $1",
      [view.id],
    );
    expect(rows.rows[0]?.revoked_at).not.toBeNull();
  });

  it("keys a node had before it joined are uploaded, and a revocation on either side wins", async () => {
    const url = fixture.database("keys_join");
    const before = await fixture.node(url);
    await before.close();
    // Made on node 1's own database without --store, as `rawrxd keys create` without --store would.
    const database = Database.open({ path: `${before.home}/rawrxd.db` });
    const local = new ApiKeyStore(database);
    const early = local.create({ name: "early", role: "admin" });
    const revokedEarly = local.create({ name: "revoked-early", role: "user" });
    local.revoke(revokedEarly.view.id);
    database.close();

    const one = await fixture.node(url, { home: before.home });
    const two = await fixture.node(url);
    await waitFor(() => two.store.keys.verify(early.key).status === "valid", "the early key on node 2", 2000);
    expect(two.store.keys.verify(revokedEarly.key).status).toBe("revoked");
    // Both were made in the same millisecond, so the listing's order between them is not fixed.
    expect(
      one.store.keys
        .list()
        .map((view) => view.name)
        .sort(),
    ).toEqual(["early", "revoked-early"]);

    // Made on node 1's database while it runs (`rawrxd keys create` without --store), revoked
    // through the shared store before any resync uploaded it: uploaded, then revoked everywhere.
    const sideways = new ApiKeyStore(one.database).create({ name: "sideways", role: "user" });
    expect((await one.store.keys.revoke(sideways.view.id))?.revokedAtMs).toBeDefined();
    await waitFor(
      () => two.store.keys.verify(sideways.key).status === "revoked",
      "sideways revoked on node 2",
      1000,
    );
  });

  it("PostgreSQL down: keys are still checked from the local copy, changes are refused with 503, and revocations arrive after it is back", async () => {
    const url = fixture.database("keys_outage");
    const one = await fixture.node(url, { keysResyncMs: 60_000 });
    const two = await fixture.node(url, { keysResyncMs: 60_000 });
    const { key, view } = await one.store.keys.create({ name: "survivor", role: "user" });
    await waitFor(() => two.store.keys.verify(key).status === "valid", "the key on node 2", 1000);

    await fixture.postgres.stop();
    expect(two.store.keys.verify(key).status).toBe("valid");
    const refused = await two.store.keys
      .create({ name: "during", role: "user" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("store-unavailable");
    expect((refused as AppError).message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);

    await fixture.postgres.restart();
    // Both listeners reconnect (they retry every second) and resync; then a revoke travels as before.
    await waitFor(
      () => one.store.keys.listens > 1 && two.store.keys.listens > 1 && two.store.keys.isListening,
      "both nodes listening again",
      15_000,
    );
    await one.store.keys.revoke(view.id);
    await waitFor(() => two.store.keys.verify(key).status === "revoked", "the revocation on node 2", 1000);
  });
});
