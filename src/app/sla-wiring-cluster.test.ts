import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.js";
import { EventBus, FakeTime, silentLogger } from "../core/index.js";
import type { Scheduler } from "../scheduler/index.js";
import { Database } from "../store/index.js";
import { createSlaService, type SlaWiringOptions } from "./sla-wiring.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function service(cluster: SlaWiringOptions["cluster"]) {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-sla-cluster-"));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const database = Database.open({ path: ":memory:" });
  cleanups.push(() => database.close());
  const time = new FakeTime({ wallMs: Date.UTC(2026, 3, 1, 12) });
  const config = loadConfig({
    flags: { home, pin: "alpha", "no-audit": "true", "no-backup": "true" },
    env: {},
    readConfigFile: false,
  });
  // The SLA reads only the loaded models from the scheduler.
  const queue = { snapshot: () => ({ loaded: [] }) } as unknown as Scheduler;
  const sla = createSlaService({
    config,
    database,
    events: new EventBus(),
    logger: silentLogger,
    time,
    queue,
    metricsRegistry: undefined,
    cluster,
  })!;
  cleanups.push(() => sla.close());
  return { sla, time };
}

describe("the SLA service when clustered", () => {
  it("adds the cluster section to GET /v1/sla/status from the membership's adverts", async () => {
    const { sla, time } = service({
      nodeId: "node-a",
      nodes: () =>
        Promise.resolve([
          {
            nodeId: "node-a",
            url: "http://127.0.0.1:1",
            heartbeatAtMs: time.wallNow(),
            isAccepting: true,
            models: [{ name: "alpha", state: "ready" as const, memoryEstimateBytes: 1 }],
            memory: { budgetBytes: 10, usedBytes: 1 },
          },
        ]),
    });
    // Nothing listens at this address: the node's own front check fails, the cluster SLA still ticks.
    sla.start("http://127.0.0.1:1");
    await time.advanceAsync(0);
    const body = (await (await sla.routes().request("/v1/sla/status")).json()) as {
      cluster?: { state: string; models: { model: string; pinned: boolean; readyOn: string[] }[] };
    };
    expect(body.cluster?.models).toEqual([
      expect.objectContaining({ model: "alpha", pinned: true, readyOn: ["node-a"] }),
    ]);
  });

  it("leaves GET /v1/sla/status as it was when not clustered", async () => {
    const { sla, time } = service(undefined);
    sla.start("http://127.0.0.1:1");
    await time.advanceAsync(0);
    const body = (await (await sla.routes().request("/v1/sla/status")).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty("cluster");
    expect(body).toHaveProperty("state");
  });
});
