/**
 * The cluster in the metrics (`--cluster`, issue #18 item 5): this node's view of every node's
 * advert plus the backlog of the Redis queues, as the `cluster` object of GET /v1/metrics and the
 * `rawrxd_cluster_*` gauges of /metrics. ops may not import src/cluster: `ClusterState` holds the
 * fields read here, and the cluster's `ClusterMetrics` (with the node id) fits it structurally.
 * Without --cluster the server state has no `cluster` and none of this shows.
 */
import { Gauge, type Registry } from "prom-client";
import { priorities, type Priority } from "../../core/index.js";

export interface ClusterState {
  /** The node whose view this is. */
  nodeId: string;
  nodes: number;
  acceptingNodes: number;
  /** Distinct models held somewhere, and runner instances over all nodes. */
  models: number;
  modelInstances: number;
  sequences: { total: number; active: number };
  /** All waiting: in Redis plus on nodes. */
  queued: Record<Priority, number>;
  /** Admitted into the Redis queues, not yet taken by a node. */
  queuedInRedis: Record<Priority, number>;
  /** The same per model (models with none left out). */
  queuedInRedisByModel: Readonly<Record<string, Readonly<Record<Priority, number>>>>;
  /** Taken by a node, waiting there for a sequence or a load. */
  queuedOnNodes: Record<Priority, number>;
  memory: { budgetBytes: number; usedBytes: number };
}

/** The `cluster` object of GET /v1/metrics (snake_case like the rest of it). */
export function clusterJson(state: ClusterState) {
  return {
    node_id: state.nodeId,
    nodes: state.nodes,
    accepting_nodes: state.acceptingNodes,
    models: state.models,
    model_instances: state.modelInstances,
    sequences: { ...state.sequences },
    queued: { ...state.queued },
    queued_in_redis: { ...state.queuedInRedis },
    queued_in_redis_by_model: Object.fromEntries(
      Object.entries(state.queuedInRedisByModel).map(([model, queued]) => [model, { ...queued }]),
    ),
    queued_on_nodes: { ...state.queuedOnNodes },
    memory: { budget_bytes: state.memory.budgetBytes, used_bytes: state.memory.usedBytes },
  };
}

/** The `rawrxd_cluster_*` gauges, registered on the first clustered scrape. */
export class ClusterGauges {
  readonly #nodes: Gauge;
  readonly #accepting: Gauge;
  readonly #models: Gauge;
  readonly #instances: Gauge;
  readonly #sequences: Gauge;
  readonly #activeSequences: Gauge;
  readonly #queued: Gauge<"priority" | "place">;
  readonly #modelQueued: Gauge<"model" | "priority">;
  readonly #budget: Gauge;
  readonly #used: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
    this.#nodes = gauge("rawrxd_cluster_nodes", "Live cluster nodes (adverts this node read).");
    this.#accepting = gauge("rawrxd_cluster_nodes_accepting", "Live cluster nodes taking new work.");
    this.#models = gauge("rawrxd_cluster_models", "Distinct models held by some node.");
    this.#instances = gauge(
      "rawrxd_cluster_model_instances",
      "Model runners over all nodes (a model held by two nodes counts twice).",
    );
    this.#sequences = gauge("rawrxd_cluster_sequences", "Sequences of all runners of all nodes.");
    this.#activeSequences = gauge(
      "rawrxd_cluster_sequences_active",
      "Sequences of all nodes running a request now.",
    );
    this.#queued = new Gauge({
      name: "rawrxd_cluster_queue_depth",
      help: "Requests waiting in the cluster: place=redis not yet taken by a node, place=node taken and waiting there for a sequence or a load.",
      labelNames: ["priority", "place"],
      registers,
    });
    this.#modelQueued = new Gauge({
      name: "rawrxd_cluster_model_queue_depth",
      help: "Requests waiting in each model's Redis queue, not yet taken by a node (models with none left out).",
      labelNames: ["model", "priority"],
      registers,
    });
    this.#budget = gauge("rawrxd_cluster_memory_budget_bytes", "Memory budgets of all nodes, summed.");
    this.#used = gauge(
      "rawrxd_cluster_memory_used_bytes",
      "Memory estimates of the models all nodes hold, summed.",
    );
  }

  set(state: ClusterState): void {
    this.#nodes.set(state.nodes);
    this.#accepting.set(state.acceptingNodes);
    this.#models.set(state.models);
    this.#instances.set(state.modelInstances);
    this.#sequences.set(state.sequences.total);
    this.#activeSequences.set(state.sequences.active);
    for (const priority of priorities) {
      this.#queued.set({ priority, place: "redis" }, state.queuedInRedis[priority]);
      this.#queued.set({ priority, place: "node" }, state.queuedOnNodes[priority]);
    }
    this.#modelQueued.reset();
    for (const [model, queued] of Object.entries(state.queuedInRedisByModel))
      for (const priority of priorities) this.#modelQueued.set({ model, priority }, queued[priority]);
    this.#budget.set(state.memory.budgetBytes);
    this.#used.set(state.memory.usedBytes);
  }
}
