/**
 * Several RawrXD nodes as one server (issue #18; docs/decisions/0035-cluster-on-redis.md): the
 * seams between the cluster's parts. Membership says which nodes are alive and what each holds;
 * placement picks where a model's requests run; the cluster scheduler (an adapter around the
 * `Scheduler` interface) queues requests in Redis through BullMQ and streams tokens node to node.
 * Everything crossing a node boundary is plain JSON-safe data named by ids, never an object.
 */
import type { Priority } from "../core/index.js";

/** What one node tells the others about itself on every heartbeat. */
export interface NodeAdvert {
  /** Stable per node (`--node-id`, default: hostname and port). */
  nodeId: string;
  /** Base URL other nodes use for the internal node-to-node routes (http://host:port). */
  url: string;
  /** Wall-clock ms of this advert (the heartbeat). */
  heartbeatAtMs: number;
  /** Wall-clock ms the node started. */
  startedAtMs: number;
  version: string;
  /** Models with a runner on this node, loading ones included. */
  models: NodeModelAdvert[];
  memory: { budgetBytes: number; usedBytes: number };
  /** Whether the node takes new work (false while draining or shutting down). */
  isAccepting: boolean;
}

export interface NodeModelAdvert {
  name: string;
  state: "loading" | "ready" | "unloading";
  sequences: { total: number; active: number };
  /** Requests of this model waiting on this node (for a sequence or the load). */
  queued: Record<Priority, number>;
  memoryEstimateBytes: number;
  /** Smoothed ms a request holds a sequence; null while unknown. */
  averageServiceMs: number | null;
  /** Measured ms of its last load on this node; null while unknown. */
  loadMs: number | null;
}

/** Who is alive: each node heartbeats its advert; one that stops is out within `ttlMs`. */
export interface Membership {
  readonly nodeId: string;
  /** Starts heartbeating (first advert written before it resolves). */
  start(): Promise<void>;
  /** Live nodes' latest adverts (this node's included), newest data from Redis. */
  nodes(): Promise<NodeAdvert[]>;
  /** Called when a node joins or leaves (seen on a heartbeat or by expiry). */
  onChange(listener: (change: { nodeId: string; kind: "joined" | "left" }) => void): () => void;
  /** Stops heartbeating and removes this node's advert (others see it leave at once). */
  close(): Promise<void>;
}

/** Where a model's next request should run. */
export type Placement =
  /** Nodes that hold the model now (ready or loading), best first: their workers take the job. */
  | { kind: "resident"; nodeIds: string[] }
  /** Nobody holds it (or all holders are full): this node should load it. */
  | { kind: "load"; nodeId: string; reason: string }
  /** No live node can hold it (memory): refuse with a clear error. */
  | { kind: "none"; reason: string };

export interface PlacementRequest {
  model: string;
  /** Memory the model needs on a node (the planner's estimate). */
  memoryEstimateBytes: number;
  nodes: readonly NodeAdvert[];
}

/** A placement policy: pure, deterministic for the same input (tests and the simulation drive it). */
export type PlacementPolicy = (request: PlacementRequest) => Placement;
