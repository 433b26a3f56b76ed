/**
 * The PostgreSQL witness's queue and retry logic on FakeTime, against a stand-in connection that
 * can be taken down (the real PostgreSQL runs in test/cluster/audit-witness*.test.ts).
 */
import { describe, expect, it } from "vitest";
import { FakeTime } from "../../core/index.js";
import type { Checkpoint } from "./checkpoints.js";
import { witnessUrlForDisplay, type WitnessConnection } from "./postgres-connection.js";
import { PostgresWitness } from "./postgres-witness.js";
import { generateSigningKey, publicKeyId } from "./signing-key.js";
import { retryDelayMs } from "./witness-retry.js";

const key = generateSigningKey();

/** A database that keeps inserted checkpoint seqs and refuses connections while `down`. */
function standIn(registeredKeyId = key.keyId) {
  const state = { down: false, hang: false, connects: 0, seqs: [] as number[], ended: 0 };
  const connect = (): Promise<WitnessConnection> => {
    state.connects += 1;
    if (state.down)
      return Promise.reject(
        Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      );
    return Promise.resolve({
      query: (text: string, values?: unknown[]) => {
        if (state.down) return Promise.reject(new Error("Connection terminated unexpectedly"));
        if (state.hang) return new Promise<never>(() => undefined);
        if (text.startsWith("select key_id"))
          return Promise.resolve({ rows: [{ key_id: registeredKeyId }], rowCount: 1 });
        if (text.startsWith("insert into rawrxd_audit_checkpoints")) {
          state.seqs.push(values![1] as number);
          return Promise.resolve({ rows: [], rowCount: 1 });
        }
        return Promise.resolve({ rows: [], rowCount: 0 });
      },
      end: () => {
        state.ended += 1;
        return Promise.resolve();
      },
    } as WitnessConnection);
  };
  return { state, connect };
}

function checkpoint(seq: number): Checkpoint {
  return {
    seq,
    head: "ab".repeat(32),
    time: "2026-12-01T12:00:00.000Z",
    node: "node-1",
    keyId: key.keyId,
    signature: "AAAA",
  };
}

function witnessOn(time: FakeTime, connect: () => Promise<WitnessConnection>) {
  return new PostgresWitness({
    url: "postgres://rawrxd:secret@db:5432/rawrxd",
    nodeId: "node-1",
    publicKey: key.publicKey,
    time,
    connect,
    retry: { initialMs: 1000, maxMs: 4000 },
  });
}

describe("retryDelayMs", () => {
  it("doubles from the first wait up to the cap", () => {
    const policy = { initialMs: 500, maxMs: 30_000, factor: 2 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((failures) => retryDelayMs(failures, policy))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe("PostgresWitness", () => {
  it("writes checkpoints in order on one connection", async () => {
    const time = new FakeTime();
    const { state, connect } = standIn();
    const witness = witnessOn(time, connect);
    for (const seq of [1, 6, 11]) witness.submit(checkpoint(seq), "segment-000001-20261201.jsonl");
    await witness.settled();
    expect(state.seqs).toEqual([1, 6, 11]);
    expect(state.connects).toBe(1);
    expect(witness.status()).toEqual({
      state: "idle",
      pending: 0,
      written: 3,
      lastWrittenSeq: 11,
      lastError: null,
      failures: 0,
    });
    await witness.close();
    expect(state.ended).toBe(1);
  });

  it("while the database is down: queues, retries after 1, 2, 4, 4 s, then drains in order", async () => {
    const time = new FakeTime();
    const { state, connect } = standIn();
    const witness = witnessOn(time, connect);
    state.down = true;
    witness.submit(checkpoint(1), "s");
    await witness.settled();
    expect(witness.status()).toMatchObject({ state: "retrying", pending: 1, failures: 1 });
    expect(witness.status().lastError).toBe("connect ECONNREFUSED 127.0.0.1:5432");
    // Checkpoints made meanwhile wait for the timer: no attempt per checkpoint.
    witness.submit(checkpoint(6), "s");
    witness.submit(checkpoint(11), "s");
    await witness.settled();
    expect(state.connects).toBe(1);
    const attemptsAt: number[] = [];
    for (const waitMs of [1000, 2000, 4000, 4000]) {
      time.advance(waitMs - 1);
      await witness.settled();
      const before = state.connects;
      time.advance(1);
      await witness.settled();
      expect(state.connects).toBe(before + 1);
      attemptsAt.push(time.monotonicNow());
    }
    expect(attemptsAt).toEqual([1000, 3000, 7000, 11_000]);
    expect(witness.status()).toMatchObject({ state: "retrying", pending: 3, failures: 5 });
    state.down = false;
    time.advance(4000);
    await witness.settled();
    expect(state.seqs).toEqual([1, 6, 11]);
    expect(witness.status()).toMatchObject({ state: "idle", pending: 0, failures: 0, lastError: null });
    await witness.close();
  });

  it("a connection lost mid-queue resumes at the first unwritten checkpoint", async () => {
    const time = new FakeTime();
    const { state, connect } = standIn();
    const witness = witnessOn(time, connect);
    witness.submit(checkpoint(1), "s");
    await witness.settled();
    state.down = true;
    witness.submit(checkpoint(6), "s");
    await witness.settled();
    expect(witness.status()).toMatchObject({ state: "retrying", pending: 1, lastWrittenSeq: 1 });
    expect(state.ended).toBe(1);
    state.down = false;
    witness.submit(checkpoint(11), "s");
    time.advance(1000);
    await witness.settled();
    expect(state.seqs).toEqual([1, 6, 11]);
    await witness.close();
  });

  it("close during an outage makes one last try, leaves no timer and stops taking checkpoints", async () => {
    const time = new FakeTime();
    const { state, connect } = standIn();
    const witness = witnessOn(time, connect);
    state.down = true;
    witness.submit(checkpoint(1), "s");
    await witness.settled();
    expect(time.pendingTimers).toBe(1);
    await witness.close();
    expect(state.connects).toBe(2);
    expect(time.pendingTimers).toBe(0);
    expect(witness.status()).toMatchObject({ state: "closed", pending: 1 });
    witness.submit(checkpoint(6), "s");
    expect(witness.status().pending).toBe(1);
  });

  it("a node id registered with another key is refused, not retried", async () => {
    const time = new FakeTime();
    const other = generateSigningKey();
    const { state, connect } = standIn(publicKeyId(other.publicKey));
    const witness = witnessOn(time, connect);
    witness.submit(checkpoint(1), "s");
    await witness.settled();
    expect(witness.status()).toMatchObject({ state: "refused", pending: 1 });
    expect(witness.status().lastError).toContain(
      `registered with key ${other.keyId}, this server signs with key ${key.keyId}`,
    );
    expect(time.pendingTimers).toBe(0);
    time.advance(60_000);
    await witness.settled();
    expect(state.connects).toBe(1);
    await witness.close();
  });

  it("shows the URL without its password", () => {
    expect(witnessUrlForDisplay("postgres://rawrxd:secret@db:5432/rawrxd")).toBe(
      "postgres://rawrxd:***@db:5432/rawrxd",
    );
    expect(witnessUrlForDisplay("postgres://rawrxd@db/rawrxd")).toBe("postgres://rawrxd@db/rawrxd");
  });

  it("close waits at most its timeout for a PostgreSQL that stopped answering", async () => {
    const time = new FakeTime();
    const { state, connect } = standIn();
    const witness = witnessOn(time, connect);
    witness.submit(checkpoint(1), "s");
    await witness.settled();
    state.hang = true;
    witness.submit(checkpoint(6), "s");
    let isClosed = false;
    const closing = witness.close(3000).then(() => (isClosed = true));
    await time.advanceAsync(2999);
    expect(isClosed).toBe(false);
    await time.advanceAsync(1);
    await closing;
    expect(witness.status()).toMatchObject({ state: "closed", pending: 1, lastWrittenSeq: 1 });
    expect(state.ended).toBe(1);
  });
});
