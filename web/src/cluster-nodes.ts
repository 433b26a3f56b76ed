/**
 * The cluster in the shell (issue #18 item 5): when GET /v1/queue carries `nodes` (each live
 * node's advert, camelCase as the cluster contract has it), the Operations page shows a Nodes
 * panel. Pure helpers: the rows per node, which nodes hold each model, and the nodes' SLA state
 * from GET /v1/sla/status `cluster` when that is there. Nothing changes without `nodes`.
 */
import { formatBytes, formatMs } from "./format.js";

export const priorities = ["high", "normal", "low"] as const;
export type PriorityName = (typeof priorities)[number];

export interface NodeModelWire {
  name: string;
  state: string;
  sequences: { total: number; active: number };
  queued: Partial<Record<PriorityName, number>>;
}

export interface NodeWire {
  nodeId: string;
  url: string;
  heartbeatAtMs: number;
  isAccepting: boolean;
  memory: { budgetBytes: number; usedBytes: number };
  models: NodeModelWire[];
}

/** A heartbeat older than this shows as stale (the cluster takes a node out within seconds). */
export const staleHeartbeatMs = 15_000;

export interface NodeModelRow {
  name: string;
  state: string;
  sequences: string;
  queued: Record<PriorityName, number>;
}

export interface NodeRow {
  nodeId: string;
  host: string;
  accepting: boolean;
  heartbeatAge: string;
  isStale: boolean;
  memory: string;
  /** used ÷ budget (0–1), null without a budget. */
  memoryFraction: number | null;
  models: NodeModelRow[];
}

export interface ModelHoldersRow {
  model: string;
  /** "node (state)", ready holders first, then by node id. */
  holders: { nodeId: string; state: string }[];
  sequences: string;
  queued: Record<PriorityName, number>;
}

/** `nodes` of a /v1/queue answer when it is a list of adverts; undefined otherwise (not clustered). */
export function clusterNodesOf(queue: unknown): NodeWire[] | undefined {
  if (typeof queue !== "object" || queue === null) return undefined;
  const nodes = (queue as { nodes?: unknown }).nodes;
  if (!Array.isArray(nodes)) return undefined;
  return nodes.filter(
    (node): node is NodeWire =>
      typeof node === "object" &&
      node !== null &&
      typeof (node as NodeWire).nodeId === "string" &&
      Array.isArray((node as NodeWire).models),
  );
}

const byText = (left: string, right: string) => (left < right ? -1 : left > right ? 1 : 0);
const stateRank = (state: string) => (state === "ready" ? 0 : state === "loading" ? 1 : 2);

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function queuedOf(queued: Partial<Record<PriorityName, number>> | undefined): Record<PriorityName, number> {
  return { high: queued?.high ?? 0, normal: queued?.normal ?? 0, low: queued?.low ?? 0 };
}

/** One row per node, sorted by node id; heartbeat age against `nowMs` (never negative). */
export function nodeRows(nodes: readonly NodeWire[], nowMs: number): NodeRow[] {
  return [...nodes]
    .sort((left, right) => byText(left.nodeId, right.nodeId))
    .map((node) => {
      const ageMs = Math.max(0, nowMs - node.heartbeatAtMs);
      const { budgetBytes, usedBytes } = node.memory;
      return {
        nodeId: node.nodeId,
        host: hostOf(node.url),
        accepting: node.isAccepting,
        heartbeatAge: formatMs(ageMs),
        isStale: ageMs > staleHeartbeatMs,
        memory: `${formatBytes(usedBytes)} of ${formatBytes(budgetBytes)}`,
        memoryFraction: budgetBytes > 0 ? usedBytes / budgetBytes : null,
        models: [...node.models]
          .sort((left, right) => byText(left.name, right.name))
          .map((model) => ({
            name: model.name,
            state: model.state,
            sequences: `${model.sequences.active}/${model.sequences.total}`,
            queued: queuedOf(model.queued),
          })),
      };
    });
}

/** Per model over all nodes: who holds it (ready first), sequences and queue per priority. */
export function modelHolders(nodes: readonly NodeWire[]): ModelHoldersRow[] {
  const rows = new Map<string, ModelHoldersRow & { active: number; total: number }>();
  for (const node of nodes)
    for (const model of node.models) {
      let row = rows.get(model.name);
      if (row === undefined) {
        row = {
          model: model.name,
          holders: [],
          sequences: "",
          queued: queuedOf(undefined),
          active: 0,
          total: 0,
        };
        rows.set(model.name, row);
      }
      row.holders.push({ nodeId: node.nodeId, state: model.state });
      row.active += model.sequences.active;
      row.total += model.sequences.total;
      for (const priority of priorities) row.queued[priority] += model.queued[priority] ?? 0;
    }
  return [...rows.values()]
    .sort((left, right) => byText(left.model, right.model))
    .map(({ active, total, ...row }) => ({
      ...row,
      holders: row.holders.sort(
        (left, right) => stateRank(left.state) - stateRank(right.state) || byText(left.nodeId, right.nodeId),
      ),
      sequences: `${active}/${total}`,
    }));
}

export interface ClusterSlaView {
  state: string;
  reasons: string[];
  nodes: Map<string, { state: string; reasons: string[] }>;
}

/** The `cluster` section of GET /v1/sla/status, when the server reports one. */
export function clusterSlaOf(status: unknown): ClusterSlaView | undefined {
  if (typeof status !== "object" || status === null) return undefined;
  const cluster = (status as { cluster?: unknown }).cluster as
    { state?: unknown; reasons?: unknown; nodes?: unknown } | undefined;
  if (typeof cluster !== "object" || cluster === null || typeof cluster.state !== "string") return undefined;
  const nodes = new Map<string, { state: string; reasons: string[] }>();
  if (Array.isArray(cluster.nodes))
    for (const node of cluster.nodes as { nodeId?: unknown; state?: unknown; reasons?: unknown }[])
      if (typeof node.nodeId === "string" && typeof node.state === "string")
        nodes.set(node.nodeId, { state: node.state, reasons: stringsOf(node.reasons) });
  return { state: cluster.state, reasons: stringsOf(cluster.reasons), nodes };
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === "string") : [];
}
