/**
 * Issue #15 §2: kill -9 of the SERVER process during a write burst (generations answered, keys
 * created, metrics read), then a restart on the same home. Nothing acknowledged is lost: the
 * database is intact, every answered request has its `inference` record, every created key is
 * there; the audit tail is repaired (and the repair recorded), the stale writer lock taken over,
 * `rawrxd audit verify` passes; the SLA records the time the server was down as `unknown`.
 */
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { systemTime } from "../../src/core/index.js";
import { sleep, waitFor } from "../support/wait-for.js";
import { isAlive, killLeftovers, startServerProcess, type ServerProcess } from "./server-process.testing.js";

const storiesPath = resolve("../shared/models/stories260K.gguf");
let home = "";
let runnerPids: number[] = [];

afterEach(() => {
  killLeftovers(runnerPids);
  if (home !== "") rmSync(home, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; output: string; errors: string }> {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home } });
  const code = await main(args, io);
  return { code, output: io.output(), errors: io.errors() };
}

interface Burst {
  answeredRequestIds: string[];
  createdKeyIds: string[];
  metricsReads: number;
  /** Requests that failed only because the server died under them. */
  cutShort: number;
}

/** Runs generations, key creation and metrics reads concurrently until `stop` is set. */
function writeBurst(
  server: ServerProcess,
  adminKey: string,
  stop: { now: boolean },
): {
  burst: Burst;
  done: Promise<unknown>;
} {
  const burst: Burst = { answeredRequestIds: [], createdKeyIds: [], metricsReads: 0, cutShort: 0 };
  const headers = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
  const loop = async (step: (index: number) => Promise<void>): Promise<void> => {
    for (let index = 0; !stop.now; index += 1) {
      try {
        await step(index);
      } catch {
        burst.cutShort += 1;
        return;
      }
    }
  };
  const generate = async (): Promise<void> => {
    const response = await fetch(`${server.url}/api/generate`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        model: "stories260K",
        prompt: "Once upon a time",
        stream: false,
        options: { num_predict: 6, temperature: 0 },
      }),
    });
    const body = (await response.json()) as { done?: boolean };
    // Answered: the client holds the whole response.
    if (response.status === 200 && body.done === true)
      burst.answeredRequestIds.push(response.headers.get("x-request-id")!);
  };
  const createKey = async (index: number): Promise<void> => {
    const response = await fetch(`${server.url}/v1/admin/keys`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: `burst-${index}`, role: "user" }),
    });
    const body = (await response.json()) as { id?: string };
    if (response.status === 201 && body.id !== undefined) burst.createdKeyIds.push(body.id);
  };
  const readMetrics = async (): Promise<void> => {
    const response = await fetch(`${server.url}/metrics`, { headers });
    await response.text();
    if (response.status === 200) burst.metricsReads += 1;
  };
  const done = Promise.all([
    ...Array.from({ length: 3 }, () => loop(generate)),
    loop(createKey),
    loop(readMetrics),
  ]);
  return { burst, done };
}

describe("kill -9 of the server during a write burst", () => {
  it("restarts with the database intact, the audit repaired and complete, and the gap unknown", async () => {
    home = mkdtempSync(join(tmpdir(), "rawrxd-faults-kill-"));
    const modelsDir = join(home, "models");
    mkdirSync(modelsDir);
    copyFileSync(storiesPath, join(modelsDir, "stories260K.gguf"));
    const adminKey = (await cli(["keys", "create", "--name", "operator", "--role", "admin"])).output.trim();
    expect(adminKey).toMatch(/^rxd_/);
    const flags = ["--health-interval", "200ms", "--parallel", "2"];

    const first = await startServerProcess(home, modelsDir, flags);
    const stop = { now: false };
    const { burst, done } = writeBurst(first, adminKey, stop);
    const deadline = systemTime.monotonicNow() + 60_000;
    while (
      (burst.answeredRequestIds.length < 12 || burst.createdKeyIds.length < 5) &&
      systemTime.monotonicNow() < deadline
    )
      await sleep(20);
    const ps = (await (
      await fetch(`${first.url}/api/ps`, { headers: { authorization: `Bearer ${adminKey}` } })
    ).json()) as { models: { pid: number | null }[] };
    runnerPids = ps.models.flatMap((model) => (model.pid === null ? [] : [model.pid]));
    const killedAtMs = systemTime.wallNow();
    await first.kill();
    stop.now = true;
    await done;
    expect(burst.answeredRequestIds.length).toBeGreaterThanOrEqual(12);
    expect(runnerPids.length).toBeGreaterThan(0);
    // Its runners notice the parent is gone and end: no orphan keeps the model's memory.
    await waitFor(() => runnerPids.every((pid) => !isAlive(pid)), "the orphaned runners to exit", 15_000);
    // A write torn by the crash: half a record after the last newline of the newest segment.
    const auditDir = join(home, "audit");
    const newest = readdirSync(auditDir)
      .filter((name) => /^segment-\d+-\d+\.jsonl$/.test(name))
      .sort()
      .at(-1)!;
    appendFileSync(join(auditDir, newest), '{"seq":999999,"type":"inference","requestId":"torn');

    const restartedAtMs = systemTime.wallNow();
    const second = await startServerProcess(home, modelsDir, flags);
    const get = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${second.url}${path}`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(response.status, path).toBe(200);
      return (await response.json()) as T;
    };
    try {
      // SQLite intact; every key whose creation was answered is there.
      const database = new BetterSqlite3(join(home, "rawrxd.db"), { readonly: true });
      try {
        expect(database.pragma("integrity_check", { simple: true })).toBe("ok");
      } finally {
        database.close();
      }
      const keys = await get<{ data: { id: string }[] }>("/v1/admin/keys");
      const keyIds = new Set(keys.data.map((key) => key.id));
      expect(burst.createdKeyIds.filter((id) => !keyIds.has(id))).toEqual([]);

      // The metrics history the first server persisted reads back.
      await get<unknown>("/v1/metrics/history?since=1h");

      // The audit: the repair and the lock take-over are on record; no answered request is missing.
      const system = await get<{ records: { action: string; details: Record<string, unknown> }[] }>(
        "/v1/audit?type=system&limit=1000",
      );
      const actions = system.records.map((record) => record.action);
      expect(actions).toContain("torn-tail-repaired");
      expect(actions).toContain("writer-lock-taken-over");
      const repair = system.records.find((record) => record.action === "torn-tail-repaired")!;
      expect(repair.details["cutBytes"]).toBe(
        Buffer.byteLength('{"seq":999999,"type":"inference","requestId":"torn'),
      );
      const inference = await get<{ records: { requestId: string | null }[] }>(
        "/v1/audit?type=inference&limit=1000",
      );
      const recorded = new Set(inference.records.map((record) => record.requestId));
      expect(burst.answeredRequestIds.filter((id) => !recorded.has(id))).toEqual([]);

      // The SLA: the time without a heartbeat is one `unknown` incident, from the last heartbeat
      // written before the kill to the restart.
      const sla = await get<{ incidents: { start: string; end: string | null; worstState: string }[] }>(
        "/v1/sla/incidents",
      );
      const gap = sla.incidents.find((incident) => incident.worstState === "unknown");
      expect(gap, JSON.stringify(sla.incidents)).toBeDefined();
      const gapStartMs = Date.parse(gap!.start);
      expect(gapStartMs).toBeLessThanOrEqual(killedAtMs);
      expect(gapStartMs).toBeGreaterThan(killedAtMs - 5_000);
      expect(Date.parse(gap!.end!)).toBeGreaterThanOrEqual(restartedAtMs);
    } finally {
      await second.stop();
    }
    const verify = await cli(["audit", "verify"]);
    expect(verify.code, verify.output + verify.errors).toBe(0);
  });
});
