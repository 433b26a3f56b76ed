/**
 * Where a model's next request runs (issue #18 item 1; docs/decisions/0036-model-affine-placement.md).
 * `affinityPlacement` keeps a model on the nodes that hold it and loads it elsewhere only when
 * none holds it or every holder is saturated, on the accepting node that can have it ready
 * soonest, so a model is not loaded on every node. `randomPlacement` is the proxy-in-front
 * baseline the simulation compares it with. Both are pure over the adverts they are given
 * (membership passes only live nodes): no clock, no I/O.
 */
import { formatBytes, priorities, type Priority } from "../core/index.js";
import type {
  NodeAdvert,
  NodeModelAdvert,
  Placement,
  PlacementPolicy,
  PlacementRequest,
} from "./contract.js";

export interface AffinityOptions {
  /**
   * A holder with no free sequence (a loading one has none yet) is full once its queue for the
   * model reaches this many requests per sequence (at least one sequence counted). Default 2.
   */
  queuedPerSequenceLimit?: number;
  /** Assumed load speed when no node has measured a load of the model, bytes/ms. Default 1 GB/s. */
  assumedLoadBytesPerMs?: number;
}

/** A queued high request delays a newcomer more than a queued low one. */
const priorityWeights: Record<Priority, number> = { high: 3, normal: 2, low: 1 };

export function weightedQueued(queued: Record<Priority, number>): number {
  return priorities.reduce((sum, priority) => sum + priorityWeights[priority] * (queued[priority] ?? 0), 0);
}

function totalQueued(queued: Record<Priority, number>): number {
  return priorities.reduce((sum, priority) => sum + (queued[priority] ?? 0), 0);
}

function freeSequences(model: NodeModelAdvert): number {
  return Math.max(0, model.sequences.total - model.sequences.active);
}

export function freeMemoryBytes(node: NodeAdvert): number {
  return Math.max(0, node.memory.budgetBytes - node.memory.usedBytes);
}

/** Memory an eviction could free: ready models with nothing running or waiting. */
function idleBytes(node: NodeAdvert): number {
  return node.models
    .filter(
      (model) => model.state === "ready" && model.sequences.active === 0 && totalQueued(model.queued) === 0,
    )
    .reduce((sum, model) => sum + model.memoryEstimateBytes, 0);
}

interface Holder {
  node: NodeAdvert;
  model: NodeModelAdvert;
}

function compareHolders(left: Holder, right: Holder): number {
  const rank = (holder: Holder) => (holder.model.state === "ready" ? 0 : 1);
  return (
    rank(left) - rank(right) ||
    freeSequences(right.model) - freeSequences(left.model) ||
    weightedQueued(left.model.queued) - weightedQueued(right.model.queued) ||
    compareIds(left.node.nodeId, right.node.nodeId)
  );
}

function compareIds(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

interface LoadCandidate {
  node: NodeAdvert;
  needsEviction: boolean;
  /** Estimated ms until the model is ready there: loads already running, then this one. */
  readyInMs: number;
  busy: number;
}

function compareCandidates(left: LoadCandidate, right: LoadCandidate): number {
  return (
    Number(left.needsEviction) - Number(right.needsEviction) ||
    left.readyInMs - right.readyInMs ||
    left.busy - right.busy ||
    freeMemoryBytes(right.node) - freeMemoryBytes(left.node) ||
    compareIds(left.node.nodeId, right.node.nodeId)
  );
}

/** The model's measured load time: the fastest advert of it anywhere (null while never loaded). */
function measuredLoadMs(nodes: readonly NodeAdvert[], model: string): number | null {
  const measured = nodes.flatMap((node) =>
    node.models
      .filter((entry) => entry.name === model && entry.loadMs !== null)
      .map((entry) => entry.loadMs!),
  );
  return measured.length === 0 ? null : Math.min(...measured);
}

function loadCandidates(request: PlacementRequest, options: Required<AffinityOptions>): LoadCandidate[] {
  const estimateMs = (bytes: number, measured: number | null) =>
    measured ?? bytes / options.assumedLoadBytesPerMs;
  const thisLoadMs = estimateMs(request.memoryEstimateBytes, measuredLoadMs(request.nodes, request.model));
  return request.nodes.flatMap((node): LoadCandidate[] => {
    if (!node.isAccepting || node.models.some((model) => model.name === request.model)) return [];
    const free = freeMemoryBytes(node);
    const needsEviction = free < request.memoryEstimateBytes;
    if (needsEviction && free + idleBytes(node) < request.memoryEstimateBytes) return [];
    const pendingLoadsMs = node.models
      .filter((model) => model.state === "loading")
      .reduce((sum, model) => sum + estimateMs(model.memoryEstimateBytes, model.loadMs), 0);
    const busy = node.models.reduce(
      (sum, model) => sum + model.sequences.active + totalQueued(model.queued),
      0,
    );
    return [{ node, needsEviction, readyInMs: pendingLoadsMs + thisLoadMs, busy }];
  });
}

function noRoomReason(request: PlacementRequest): string {
  const needed = formatBytes(request.memoryEstimateBytes);
  const accepting = request.nodes.filter((node) => node.isAccepting);
  if (accepting.length === 0)
    return `No node accepts work (${request.nodes.length} live, all draining or none): model "${request.model}" cannot be placed; start or undrain a node.`;
  const best = accepting
    .map((node) => ({ node, room: freeMemoryBytes(node) + idleBytes(node) }))
    .sort((left, right) => right.room - left.room || compareIds(left.node.nodeId, right.node.nodeId))[0]!;
  return (
    `Model "${request.model}" needs ${needed}; the node with the most room, "${best.node.nodeId}", ` +
    `has ${formatBytes(best.room)} free or evictable of ${formatBytes(best.node.memory.budgetBytes)}. ` +
    "Use a smaller quantization or context, or add a node with more memory."
  );
}

/** The model-affine policy with its thresholds. */
export function createAffinityPlacement(options: AffinityOptions = {}): PlacementPolicy {
  const settings: Required<AffinityOptions> = {
    queuedPerSequenceLimit: options.queuedPerSequenceLimit ?? 2,
    assumedLoadBytesPerMs: options.assumedLoadBytesPerMs ?? 1_000_000,
  };
  // A loading holder has no sequence to give yet: its queue share alone decides.
  const isFull = (holder: Holder) =>
    (holder.model.state !== "ready" || freeSequences(holder.model) === 0) &&
    totalQueued(holder.model.queued) >=
      Math.max(1, holder.model.sequences.total) * settings.queuedPerSequenceLimit;
  return (request): Placement => {
    const holders = request.nodes
      .filter((node) => node.isAccepting)
      .flatMap((node) =>
        node.models
          .filter((model) => model.name === request.model && model.state !== "unloading")
          .map((model) => ({ node, model })),
      )
      .sort(compareHolders);
    const holderIds = holders.map((holder) => holder.node.nodeId);
    if (holders.length > 0 && !holders.every(isFull)) return { kind: "resident", nodeIds: holderIds };
    const best = loadCandidates(request, settings).sort(compareCandidates)[0];
    if (best !== undefined) {
      const why =
        holders.length === 0
          ? `no node holds "${request.model}"`
          : `all ${holders.length} holder(s) of "${request.model}" are full`;
      const how = best.needsEviction ? "after evicting idle models" : "without evicting";
      return {
        kind: "load",
        nodeId: best.node.nodeId,
        reason: `${why}; "${best.node.nodeId}" can have it ready soonest (~${Math.round(best.readyInMs)} ms, ${how}).`,
      };
    }
    if (holders.length > 0) return { kind: "resident", nodeIds: holderIds };
    return { kind: "none", reason: noRoomReason(request) };
  };
}

export const affinityPlacement: PlacementPolicy = createAffinityPlacement();

/** mulberry32: a small seeded generator, so a simulation run can be repeated. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The baseline: a proxy that sends each request to a random accepting node able to hold the
 * model (holding it or with room, evictions allowed). Not pure: each call draws from its seed.
 */
export function randomPlacement(seed: number): PlacementPolicy {
  const random = seededRandom(seed);
  return (request): Placement => {
    const eligible = request.nodes.filter(
      (node) =>
        node.isAccepting &&
        (node.models.some((model) => model.name === request.model && model.state !== "unloading") ||
          freeMemoryBytes(node) + idleBytes(node) >= request.memoryEstimateBytes),
    );
    const node = eligible[Math.floor(random() * eligible.length)];
    if (node === undefined) return { kind: "none", reason: noRoomReason(request) };
    const holds = node.models.some((model) => model.name === request.model && model.state !== "unloading");
    return holds
      ? { kind: "resident", nodeIds: [node.nodeId] }
      : { kind: "load", nodeId: node.nodeId, reason: `random choice "${node.nodeId}"` };
  };
}
