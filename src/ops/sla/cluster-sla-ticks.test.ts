import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, FakeTime } from "../../core/index.js";
import { registerClusterSlaMetrics } from "./cluster-sla-prometheus.js";
import { ClusterSla } from "./cluster-sla.js";
import { advert, localStatus } from "./cluster-sla.testing.js";
import { startClusterSlaTicks, type ClusterSlaTicks } from "./cluster-sla-ticks.js";

const running: ClusterSlaTicks[] = [];
afterEach(async () => {
  for (const ticks of running.splice(0)) await ticks.close();
});

function start() {
  const time = new FakeTime({ wallMs: Date.UTC(2026, 3, 1, 12) });
  const lines: { level: string; message: string }[] = [];
  const logger = createLogger(
    "info",
    (line) => lines.push(JSON.parse(line) as { level: string; message: string }),
    time,
  );
  const sla = new ClusterSla({
    nodeId: "a",
    time,
    settings: { intervalMs: 10_000, pinnedModels: ["alpha"] },
  });
  const redis = { isDown: false };
  const ticks = startClusterSlaTicks({
    sla,
    time,
    logger,
    intervalMs: 10_000,
    nodes: () =>
      redis.isDown
        ? Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"))
        : Promise.resolve([advert("a", time.wallNow(), [["alpha", "ready"]])]),
    localStatus: () => localStatus([{ name: "front", kind: "front", status: "pass" }]),
  });
  running.push(ticks);
  return { time, sla, redis, lines };
}

describe("cluster SLA ticks", () => {
  it("observes on every health-check interval, skips ticks whose adverts cannot be read, and logs that once", async () => {
    const { time, sla, redis, lines } = start();
    await time.advanceAsync(0);
    const first = sla.json()!.checkedAt;
    await time.advanceAsync(10_000);
    expect(sla.json()!.checkedAt).not.toBe(first);
    redis.isDown = true;
    await time.advanceAsync(50_000);
    const stuck = sla.json()!.checkedAt;
    expect(stuck).toBe("2026-04-01T12:00:10.000Z");
    expect(lines.filter((line) => line.level === "warn")).toHaveLength(1);
    redis.isDown = false;
    await time.advanceAsync(10_000);
    expect(lines.at(-1)?.message).toBe("cluster SLA: node adverts readable again");
    // The 60 s nobody could read the adverts are unknown: 10 s seen up out of 70 s.
    expect(sla.json()!.availability.conservative).toBeCloseTo(10 / 70);
    expect(sla.json()!.availability.observed).toBe(1);
  });

  it("puts the cluster's and each node's state on /metrics", async () => {
    const { time, sla } = start();
    await time.advanceAsync(0);
    const registry = new Registry();
    registerClusterSlaMetrics(registry, () => sla.json());
    const text = await registry.metrics();
    expect(text).toContain('rawrxd_cluster_sla_state{state="up"} 1');
    expect(text).toContain('rawrxd_cluster_sla_state{state="down"} 0');
    expect(text).toContain('rawrxd_cluster_node_sla_state{node="a",state="up"} 1');
  });
});
