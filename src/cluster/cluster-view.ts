/**
 * The whole cluster as plain data (issue #18 item 5), from the live nodes' adverts: per node
 * (models, sequences, queue per priority, memory), per model across nodes (holders, sequences,
 * queue per priority) and a small aggregate for /v1/metrics and /metrics. Pure functions: /v1/queue, the
 * shell and the SLA report read the same view; `clusterQueueJson` is its /v1/queue wire form.
 */
import { priorities, type Priority } from "../core/index.js";
import type { NodeAdvert, NodeModelAdvert } from "./contract.js";

export interface SequenceCount {
  total: number;
  active: number;
}

export interface ClusterNodeModelView {
  name: string;
  state: NodeModelAdvert["state"];
  sequences: SequenceCount;
  queued: Record<Priority, number>;
  memoryEstimateBytes: number;
}

export interface ClusterNodeView {
  nodeId: string;
  isAccepting: boolean;
  heartbeatAtMs: number;
  memory: { budgetBytes: number; usedBytes: number };
  models: ClusterNodeModelView[];
  sequences: SequenceCount;
  queued: Record<Priority, number>;
}

export interface ClusterModelView {
  model: string;
  /** Nodes holding it, ready ones first, then by node id. */
  holders: { nodeId: string; state: NodeModelAdvert["state"] }[];
  sequences: SequenceCount;
  queued: Record<Priority, number>;
}

export interface ClusterView {
  nodes: ClusterNodeView[];
  models: ClusterModelView[];
  sequences: SequenceCount;
  queued: Record<Priority, number>;
}

function noneQueued(): Record<Priority, number> {
  return { high: 0, normal: 0, low: 0 };
}

function addQueued(into: Record<Priority, number>, from: Readonly<Record<Priority, number>>): void {
  for (const priority of priorities) into[priority] += from[priority] ?? 0;
}

function addSequences(into: SequenceCount, from: SequenceCount): void {
  into.total += from.total;
  into.active += from.active;
}

const byText = (left: string, right: string) => (left < right ? -1 : left > right ? 1 : 0);
const stateRank: Record<NodeModelAdvert["state"], number> = { ready: 0, loading: 1, unloading: 2 };

export function clusterView(adverts: readonly NodeAdvert[]): ClusterView {
  const sequences = { total: 0, active: 0 };
  const queued = noneQueued();
  const models = new Map<string, ClusterModelView>();
  const nodes = [...adverts]
    .sort((left, right) => byText(left.nodeId, right.nodeId))
    .map((advert): ClusterNodeView => {
      const node: ClusterNodeView = {
        nodeId: advert.nodeId,
        isAccepting: advert.isAccepting,
        heartbeatAtMs: advert.heartbeatAtMs,
        memory: { ...advert.memory },
        models: [],
        sequences: { total: 0, active: 0 },
        queued: noneQueued(),
      };
      for (const model of [...advert.models].sort((left, right) => byText(left.name, right.name))) {
        const modelQueued = { ...noneQueued(), ...model.queued };
        node.models.push({
          name: model.name,
          state: model.state,
          sequences: { ...model.sequences },
          queued: modelQueued,
          memoryEstimateBytes: model.memoryEstimateBytes,
        });
        addSequences(node.sequences, model.sequences);
        addQueued(node.queued, modelQueued);
        let view = models.get(model.name);
        if (view === undefined) {
          view = { model: model.name, holders: [], sequences: { total: 0, active: 0 }, queued: noneQueued() };
          models.set(model.name, view);
        }
        view.holders.push({ nodeId: advert.nodeId, state: model.state });
        addSequences(view.sequences, model.sequences);
        addQueued(view.queued, modelQueued);
      }
      addSequences(sequences, node.sequences);
      addQueued(queued, node.queued);
      return node;
    });
  const modelViews = [...models.values()].sort((left, right) => byText(left.model, right.model));
  for (const view of modelViews)
    view.holders.sort(
      (left, right) => stateRank[left.state] - stateRank[right.state] || byText(left.nodeId, right.nodeId),
    );
  return { nodes, models: modelViews, sequences, queued };
}

/** The cluster section of GET /v1/queue (snake_case like the rest of that answer). */
export function clusterQueueJson(view: ClusterView) {
  return {
    sequences: view.sequences,
    queued: view.queued,
    nodes: view.nodes.map((node) => ({
      node_id: node.nodeId,
      accepting: node.isAccepting,
      heartbeat_at_ms: node.heartbeatAtMs,
      memory: { budget_bytes: node.memory.budgetBytes, used_bytes: node.memory.usedBytes },
      sequences: node.sequences,
      queued: node.queued,
      models: node.models.map((model) => ({
        name: model.name,
        state: model.state,
        sequences: model.sequences,
        queued: model.queued,
        memory_estimate_bytes: model.memoryEstimateBytes,
      })),
    })),
    models: view.models.map((model) => ({
      model: model.model,
      holders: model.holders.map((holder) => ({ node_id: holder.nodeId, state: holder.state })),
      sequences: model.sequences,
      queued: model.queued,
    })),
  };
}

export interface ClusterMetrics {
  nodes: number;
  acceptingNodes: number;
  /** Distinct models held somewhere, and runner instances over all nodes. */
  models: number;
  modelInstances: number;
  sequences: SequenceCount;
  /** All requests waiting: `queuedInRedis` plus `queuedOnNodes`. */
  queued: Record<Priority, number>;
  /** Admitted into the models' queues in Redis, not yet taken by any node. */
  queuedInRedis: Record<Priority, number>;
  /** Taken by a node and waiting there for a sequence or the model's load (the adverts). */
  queuedOnNodes: Record<Priority, number>;
  memory: { budgetBytes: number; usedBytes: number };
}

/**
 * A cluster aggregate for /v1/metrics and /metrics: counts only, cheap enough for every scrape.
 * `queuedInRedis`: the backlog of the Redis queues per priority (adverts do not carry it).
 */
export function clusterMetrics(
  adverts: readonly NodeAdvert[],
  queuedInRedis: Readonly<Record<Priority, number>> = noneQueued(),
): ClusterMetrics {
  const view = clusterView(adverts);
  const queued = noneQueued();
  addQueued(queued, view.queued);
  addQueued(queued, queuedInRedis);
  return {
    nodes: view.nodes.length,
    acceptingNodes: view.nodes.filter((node) => node.isAccepting).length,
    models: view.models.length,
    modelInstances: view.nodes.reduce((sum, node) => sum + node.models.length, 0),
    sequences: view.sequences,
    queued,
    queuedInRedis: { ...noneQueued(), ...queuedInRedis },
    queuedOnNodes: view.queued,
    memory: {
      budgetBytes: view.nodes.reduce((sum, node) => sum + node.memory.budgetBytes, 0),
      usedBytes: view.nodes.reduce((sum, node) => sum + node.memory.usedBytes, 0),
    },
  };
}
