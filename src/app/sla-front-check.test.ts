import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../config/index.js";
import { EventBus, FakeTime, silentLogger } from "../core/index.js";
import type { Scheduler } from "../scheduler/index.js";
import { Database } from "../store/index.js";
import { createSlaService, frontHttpProbeEveryMs } from "./sla-wiring.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp() {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-sla-front-"));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const database = Database.open({ path: ":memory:" });
  cleanups.push(() => database.close());
  const time = new FakeTime({ wallMs: Date.UTC(2026, 3, 1, 12) });
  const config = loadConfig({
    flags: { home, "no-audit": "true", "no-backup": "true" },
    env: {},
    readConfigFile: false,
  });
  const counts = { http: 0, local: 0 };
  let localStatus = 200;
  const server: Server = createServer((request, response) => {
    if (request.url === "/health") counts.http += 1;
    response.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const sla = createSlaService({
    config,
    database,
    events: new EventBus(),
    logger: silentLogger,
    time,
    queue: { snapshot: () => ({ loaded: [] }) } as unknown as Scheduler,
    metricsRegistry: undefined,
  })!;
  cleanups.push(() => sla.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sla.start(url, {
    isListening: () => server.listening,
    fetch: () => {
      counts.local += 1;
      return new Response(null, { status: localStatus });
    },
  });
  /** Runs the next round and waits for its front check. */
  const round = async (): Promise<void> => {
    const before = counts.http + counts.local;
    await time.advanceAsync(config.healthIntervalMs);
    await vi.waitFor(() => expect(counts.http + counts.local).toBe(before + 1));
    await vi.waitFor(() => expect(sla.manager.status().checks.length).toBeGreaterThan(0));
  };
  const front = () => sla.manager.status().checks.find((check) => check.name === "front");
  return { counts, round, front, failLocal: () => (localStatus = 503) };
}

describe("the SLA front check", () => {
  it("answers /health in process between real loopback GETs, one a minute and after a failure", async () => {
    const { counts, round, front, failLocal } = await setUp();
    await vi.waitFor(() => expect(counts.http).toBe(1));
    const rounds = frontHttpProbeEveryMs / 10_000;
    for (let index = 1; index < rounds; index++) await round();
    expect(counts).toEqual({ http: 1, local: rounds - 1 });
    await round();
    expect(counts).toEqual({ http: 2, local: rounds - 1 });
    failLocal();
    await round();
    await vi.waitFor(() => expect(front()?.status).toBe("fail"));
    await round();
    expect(counts).toEqual({ http: 3, local: rounds });
    await vi.waitFor(() => expect(front()?.status).toBe("pass"));
  });
});
