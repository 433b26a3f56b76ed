import { describe, expect, it } from "vitest";
import { EventBus, FakeTime, type ServerEvents } from "../../core/index.js";
import { ClusterSla } from "./cluster-sla.js";
import { advert } from "./cluster-sla.testing.js";
import { createSlaRoutes } from "./sla-routes.js";
import type { SlaStatus } from "./sla-status.js";

function watch(settings: { forgetAfterMs?: number } = {}) {
  const time = new FakeTime({ wallMs: Date.UTC(2026, 3, 1, 12) });
  const events = new EventBus();
  const incidents: ServerEvents["cluster-sla-incident"][] = [];
  const states: ServerEvents["cluster-sla-state"][] = [];
  events.on("cluster-sla-incident", (event) => incidents.push(event));
  events.on("cluster-sla-state", (event) => states.push(event));
  const sla = new ClusterSla({
    nodeId: "a",
    time,
    events,
    settings: { intervalMs: 10_000, pinnedModels: ["alpha"], ...settings },
  });
  return { time, sla, incidents, states };
}

describe("the cluster SLA over time", () => {
  it("opens a node and a cluster incident when a node is killed, and closes them when it returns", () => {
    const { time, sla, incidents, states } = watch();
    const both = () => [
      advert("a", time.wallNow(), [["alpha", "ready"]]),
      advert("b", time.wallNow(), [["alpha", "ready"]]),
    ];
    sla.observe(both());
    time.advance(10_000);
    expect(sla.observe(both()).state).toBe("up");
    const killedAt = time.wallNow();
    time.advance(10_000);
    // b was killed: membership expired it, its advert is gone.
    const degraded = sla.observe([advert("a", time.wallNow(), [["alpha", "ready"]])]);
    expect(degraded.state).toBe("degraded");
    expect(degraded.nodes[1]).toMatchObject({ nodeId: "b", state: "down", isAdvertised: false });
    expect(incidents.map((event) => [event.scope, event.action, event.worstState])).toEqual([
      ["cluster", "opened", "degraded"],
      ["node:b", "opened", "down"],
    ]);
    time.advance(30_000);
    sla.observe(both());
    expect(incidents.slice(2).map((event) => [event.scope, event.action])).toEqual([
      ["cluster", "closed"],
      ["node:b", "closed"],
    ]);
    expect(incidents[2]).toMatchObject({ startMs: killedAt + 10_000, endMs: killedAt + 40_000 });
    expect(states.filter((event) => event.scope === "cluster").map((event) => event.state)).toEqual([
      "up",
      "degraded",
      "up",
    ]);
    // 20 s up, 30 s degraded, all available: the degraded time counts as available.
    expect(sla.json()!.availability).toMatchObject({ observed: 1, conservative: 1, coverage: 1 });
    const nodeB = sla.json()!.nodes.find((node) => node.nodeId === "b")!;
    expect(nodeB.availability.observed).toBeCloseTo(20 / 50);
  });

  it("goes down when the only holder of a pinned model is lost, with the cause", () => {
    const { time, sla, incidents } = watch();
    const full = { budgetBytes: 4 * 1024 ** 3, usedBytes: 4 * 1024 ** 3 };
    sla.observe([
      { ...advert("a", time.wallNow(), [["beta", "ready"]]), memory: full },
      advert("b", time.wallNow(), [["alpha", "ready"]]),
    ]);
    time.advance(10_000);
    const health = sla.observe([{ ...advert("a", time.wallNow(), [["beta", "ready"]]), memory: full }]);
    expect(health.state).toBe("down");
    expect(incidents[0]).toMatchObject({ scope: "cluster", action: "opened", worstState: "down" });
    expect(incidents[0]!.cause[0]).toMatch(/^pinned model alpha: no live accepting node holds it/);
    expect(sla.incidents().map((incident) => [incident.scope, incident.endMs])).toEqual([
      ["node:b", undefined],
      ["cluster", undefined],
    ]);
  });

  it("drops a node that drained before leaving, and forgets a vanished one after forgetAfterMs", () => {
    const { time, sla, incidents } = watch({ forgetAfterMs: 60_000 });
    sla.observe([
      advert("a", time.wallNow(), [["alpha", "ready"]]),
      { ...advert("b", time.wallNow(), []), isAccepting: false },
      advert("c", time.wallNow(), []),
    ]);
    time.advance(10_000);
    const health = sla.observe([advert("a", time.wallNow(), [["alpha", "ready"]])]);
    expect(health.nodes.map((node) => [node.nodeId, node.state])).toEqual([
      ["a", "up"],
      ["c", "down"],
    ]);
    // b (draining) had its own incident open: closed when it left.
    expect(incidents.find((event) => event.scope === "node:b" && event.action === "closed")?.cause).toContain(
      "left the cluster after draining",
    );
    time.advance(70_000);
    const later = sla.observe([advert("a", time.wallNow(), [["alpha", "ready"]])]);
    expect(later.nodes.map((node) => node.nodeId)).toEqual(["a"]);
    expect(later.state).toBe("up");
    expect(incidents.find((event) => event.scope === "node:c" && event.action === "closed")?.cause).toContain(
      "forgotten: no advert for 80 s",
    );
  });

  it("records a gap of more than three intervals between ticks as unknown", () => {
    const { time, sla } = watch();
    const one = () => [advert("a", time.wallNow(), [["alpha", "ready"]])];
    sla.observe(one());
    time.advance(10_000);
    sla.observe(one());
    time.advance(100_000);
    sla.observe(one());
    const { availability } = sla.json()!;
    expect(availability.observed).toBe(1);
    expect(availability.conservative).toBeCloseTo(10 / 110);
    expect(availability.coverage).toBeCloseTo(10 / 110);
  });

  it("adds `cluster` to GET /v1/sla/status only when clustered", async () => {
    const { time, sla } = watch();
    const source = {
      status: () => ({ state: "up" }) as SlaStatus,
      incidents: () => ({ total: 0, incidents: [] }),
      report: () => {
        throw new Error("not used");
      },
      nowMs: () => time.wallNow(),
    };
    const single = await (await createSlaRoutes(source).request("/v1/sla/status")).json();
    expect(single).toEqual({ state: "up" });
    const clustered = createSlaRoutes({ ...source, cluster: () => sla.json() });
    expect(await (await clustered.request("/v1/sla/status")).json()).toEqual({ state: "up" });
    sla.observe([advert("a", time.wallNow(), [["alpha", "ready"]])]);
    const body = (await (await clustered.request("/v1/sla/status")).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      state: "up",
      cluster: {
        state: "up",
        nodeId: "a",
        checkedAt: "2026-04-01T12:00:00.000Z",
        nodes: [{ nodeId: "a", host: "127.0.0.1:7097", state: "up", local: true, heartbeatAgeSeconds: 0 }],
        models: [{ model: "alpha", pinned: true, state: "up", serving: "ready", readyOn: ["a"] }],
        incidents: [],
      },
    });
  });
});
