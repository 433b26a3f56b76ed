/**
 * Routing decisions per second of the placement function alone: adverts of N nodes (each with
 * two or three models, some busy with queues) and a request for a random model, in a loop.
 */
import { seededRandom, type NodeAdvert, type PlacementPolicy } from "../../src/cluster/index.js";
import { systemTime } from "../../src/core/index.js";
import type { SimWorld } from "./sim-world.js";

export interface RoutingResult {
  policy: string;
  nodes: number;
  decisions: number;
  decisionsPerSecond: number;
  /** Mean µs per decision. */
  microsecondsPerDecision: number;
}

function advertsOf(world: SimWorld, seed: number): NodeAdvert[] {
  const random = seededRandom(seed);
  return world.nodes.map((node, index) => {
    const names = [node.residents[0]!, world.models[(index * 7 + 3) % world.models.length]!.name];
    if (index % 2 === 0) names.push(world.models[(index * 13 + 5) % world.models.length]!.name);
    const models = [...new Set(names)].map((name) => {
      const spec = world.models.find((model) => model.name === name)!;
      const active = Math.floor(random() * (world.sequencesPerModel + 1));
      const queued = active === world.sequencesPerModel ? Math.floor(random() * 12) : 0;
      return {
        name,
        state: "ready" as const,
        sequences: { total: world.sequencesPerModel, active },
        queued: { high: 0, normal: queued, low: 0 },
        memoryEstimateBytes: spec.sizeBytes,
        averageServiceMs: spec.serviceMs,
        loadMs: spec.loadMs,
      };
    });
    return {
      nodeId: node.nodeId,
      url: "",
      heartbeatAtMs: 0,
      startedAtMs: 0,
      version: "sim",
      isAccepting: true,
      memory: {
        budgetBytes: node.budgetBytes,
        usedBytes: models.reduce((sum, model) => sum + model.memoryEstimateBytes, 0),
      },
      models,
    };
  });
}

export function measureRouting(
  world: SimWorld,
  policy: { name: string; place: PlacementPolicy },
  durationMs: number,
): RoutingResult {
  const nodes = advertsOf(world, 7);
  const requests = world.models.map((model) => ({
    model: model.name,
    memoryEstimateBytes: model.sizeBytes,
    nodes,
  }));
  let decisions = 0;
  let sink = 0;
  const startedMs = systemTime.monotonicNow();
  let elapsedMs = 0;
  while (elapsedMs < durationMs) {
    for (let batch = 0; batch < 50; batch += 1) {
      const placement = policy.place(requests[decisions % requests.length]!);
      sink += placement.kind.length;
      decisions += 1;
    }
    elapsedMs = systemTime.monotonicNow() - startedMs;
  }
  if (sink < 0) throw new Error("unreachable");
  return {
    policy: policy.name,
    nodes: nodes.length,
    decisions,
    decisionsPerSecond: (decisions * 1000) / elapsedMs,
    microsecondsPerDecision: (elapsedMs * 1000) / decisions,
  };
}
