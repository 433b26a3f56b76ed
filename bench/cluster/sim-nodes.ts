/**
 * The simulated nodes: which models each holds (loading or ready), its busy sequences and
 * memory, the adverts the placement policy reads, and loads that evict idle models least
 * recently used first. No engine runs: a request only holds a sequence for its service time.
 */
import type { NodeAdvert } from "../../src/cluster/index.js";
import type { Priority } from "../../src/core/index.js";
import type { SimModelSpec, SimNodeSpec, SimWorld } from "./sim-world.js";

export interface HeldModel {
  spec: SimModelSpec;
  state: "loading" | "ready";
  active: number;
  lastUsedMs: number;
  loadMs: number | null;
}

export interface SimNode {
  spec: SimNodeSpec;
  usedBytes: number;
  models: Map<string, HeldModel>;
}

export function createNodes(world: SimWorld): SimNode[] {
  const specs = new Map(world.models.map((model) => [model.name, model]));
  return world.nodes.map((spec) => {
    const node: SimNode = { spec, usedBytes: 0, models: new Map() };
    for (const name of spec.residents) {
      const model = specs.get(name)!;
      node.models.set(name, { spec: model, state: "ready", active: 0, lastUsedMs: 0, loadMs: null });
      node.usedBytes += model.sizeBytes;
    }
    return node;
  });
}

/** What each node would advertise now; `queuedOf` says what waits for a model on a node. */
export function advertsOf(
  nodes: readonly SimNode[],
  options: {
    nowMs: number;
    sequencesPerModel: number;
    queuedOf: (node: SimNode, model: string) => Record<Priority, number>;
  },
): NodeAdvert[] {
  return nodes.map((node) => ({
    nodeId: node.spec.nodeId,
    url: "",
    heartbeatAtMs: options.nowMs,
    startedAtMs: 0,
    version: "sim",
    isAccepting: true,
    memory: { budgetBytes: node.spec.budgetBytes, usedBytes: node.usedBytes },
    models: [...node.models.values()].map((held) => ({
      name: held.spec.name,
      state: held.state,
      sequences: { total: options.sequencesPerModel, active: held.active },
      queued: options.queuedOf(node, held.spec.name),
      memoryEstimateBytes: held.spec.sizeBytes,
      averageServiceMs: held.spec.serviceMs,
      loadMs: held.loadMs,
    })),
  }));
}

/**
 * Starts loading `spec` on `node`, evicting idle models (least recently used first) to make
 * room. Returns the evictions, or undefined when even evicting every idle model is not enough.
 */
export function startLoad(
  node: SimNode,
  spec: SimModelSpec,
  options: { nowMs: number; isIdle: (held: HeldModel) => boolean },
): { evictions: number } | undefined {
  const idle = [...node.models.values()]
    .filter(options.isIdle)
    .sort((left, right) => left.lastUsedMs - right.lastUsedMs);
  const roomBytes = idle.reduce(
    (sum, held) => sum + held.spec.sizeBytes,
    node.spec.budgetBytes - node.usedBytes,
  );
  if (roomBytes < spec.sizeBytes) return undefined;
  let evictions = 0;
  while (node.usedBytes + spec.sizeBytes > node.spec.budgetBytes) {
    const victim = idle.shift()!;
    node.models.delete(victim.spec.name);
    node.usedBytes -= victim.spec.sizeBytes;
    evictions += 1;
  }
  node.models.set(spec.name, { spec, state: "loading", active: 0, lastUsedMs: options.nowMs, loadMs: null });
  node.usedBytes += spec.sizeBytes;
  return { evictions };
}
