/**
 * The cluster's health from the live nodes' adverts (issue #18 item 5), pure and on wall-clock
 * milliseconds. See docs/decisions/0040-cluster-sla-and-views.md:
 *  - a node is `down` when its heartbeat is stale (or it left without draining, or its own
 *    checks say down), `degraded` when it does not accept work or its checks say degraded,
 *    else `up`;
 *  - a model can be served when a live, accepting node holds it ready (or loading), or, held
 *    nowhere, a live accepting node has room to load it; a pinned model that cannot be served
 *    makes the cluster `down` for it;
 *  - the cluster is `down` with no live accepting node or a pinned model nobody can serve,
 *    `degraded` when any node is not `up`, else `up`.
 * ops may not import src/cluster: `ClusterAdvert` holds the advert fields read here, and the
 * cluster's `NodeAdvert` fits it structurally.
 */
import type { CheckResult, ServiceState } from "./service-state.js";
import { failingChecks } from "./service-state.js";

/** The fields of a node's advert (src/cluster NodeAdvert) the cluster SLA reads. */
export interface ClusterAdvert {
  nodeId: string;
  url: string;
  /** Wall-clock ms of the advert (the heartbeat). */
  heartbeatAtMs: number;
  isAccepting: boolean;
  models: readonly {
    name: string;
    state: "loading" | "ready" | "unloading";
    memoryEstimateBytes?: number;
  }[];
  memory: { budgetBytes: number; usedBytes: number };
  /** The node's own SLA state, where the advert carries it (optional: not in the contract yet). */
  serviceState?: ServiceState;
}

/** This node's own SLA status (SlaManager.status()), the part read here. */
export interface LocalSlaStatus {
  state: string;
  observedState: ServiceState | undefined;
  checks: readonly CheckResult[];
}

export interface NodeHealth {
  nodeId: string;
  url: string;
  state: ServiceState;
  /** Why it is not up (empty when up). */
  reasons: string[];
  isAccepting: boolean;
  /** Seconds since its last heartbeat. */
  heartbeatAgeSeconds: number;
  /** False for a node known from an earlier advert that has none now. */
  isAdvertised: boolean;
  isLocal: boolean;
}

/** How a model can be served: held ready, loading, loadable on a node with room, or not at all. */
export type ModelServing = "ready" | "loading" | "loadable" | "none";

export interface ModelHealth {
  model: string;
  isPinned: boolean;
  state: "up" | "down";
  serving: ModelServing;
  /** Live accepting nodes holding it ready, loading it, or with room to load it. */
  readyOn: string[];
  loadingOn: string[];
  loadableOn: string[];
  reason: string;
}

export interface ClusterHealth {
  state: ServiceState;
  reasons: string[];
  nodes: NodeHealth[];
  models: ModelHealth[];
}

export interface ClusterHealthInput {
  /** Adverts of live nodes plus the last advert of nodes that vanished (`isAdvertised` false). */
  adverts: readonly (ClusterAdvert & { isAdvertised?: boolean })[];
  localNodeId: string;
  localStatus: LocalSlaStatus | undefined;
  pinnedModels: readonly string[];
  /** Known memory needs of models (bytes), e.g. remembered from earlier adverts. */
  memoryEstimates: ReadonlyMap<string, number>;
  nowMs: number;
  /** A heartbeat older than this is stale: the node is down. */
  staleAfterMs: number;
}

const byText = (left: string, right: string) => (left < right ? -1 : left > right ? 1 : 0);

export function nodeHealthOf(
  advert: ClusterAdvert & { isAdvertised?: boolean },
  input: Pick<ClusterHealthInput, "localNodeId" | "localStatus" | "nowMs" | "staleAfterMs">,
): NodeHealth {
  const ageMs = Math.max(0, input.nowMs - advert.heartbeatAtMs);
  const isLocal = advert.nodeId === input.localNodeId;
  const isAdvertised = advert.isAdvertised ?? true;
  const reasons: string[] = [];
  let state: ServiceState = "up";
  const worsen = (to: ServiceState, reason: string) => {
    if (to === "down" || state === "up") state = to;
    reasons.push(reason);
  };
  if (!isAdvertised) worsen("down", `left the cluster without draining: no advert for ${ageMs / 1000} s`);
  else if (ageMs > input.staleAfterMs) worsen("down", `no heartbeat for ${ageMs / 1000} s`);
  const own = isLocal ? input.localStatus?.observedState : advert.serviceState;
  if (own === "down" || own === "degraded") {
    const failing = isLocal ? failingChecks(input.localStatus?.checks ?? []) : [];
    worsen(own, `its own checks say ${own}${failing.length > 0 ? `: ${failing.join("; ")}` : ""}`);
  }
  if (!advert.isAccepting) worsen("degraded", "not accepting work (draining or shutting down)");
  return {
    nodeId: advert.nodeId,
    url: advert.url,
    state,
    reasons,
    isAccepting: advert.isAccepting,
    heartbeatAgeSeconds: ageMs / 1000,
    isAdvertised,
    isLocal,
  };
}

/** Models whose runner or probe check fails on this node: held, but it cannot serve them. */
function failingModels(status: LocalSlaStatus | undefined): Set<string> {
  const names = new Set<string>();
  for (const check of status?.checks ?? [])
    if ((check.kind === "runner" || check.kind === "probe") && check.status === "fail")
      names.add(check.name.slice(check.name.indexOf(":") + 1));
  return names;
}

export function clusterHealthOf(input: ClusterHealthInput): ClusterHealth {
  const adverts = [...input.adverts].sort((left, right) => byText(left.nodeId, right.nodeId));
  const nodes = adverts.map((advert) => nodeHealthOf(advert, input));
  const localFailing = failingModels(input.localStatus);
  // Nodes that can take work now: advertised, heartbeat fresh, accepting, own checks not down.
  const serving = adverts.filter((_, index) => {
    const node = nodes[index]!;
    return node.isAccepting && node.isAdvertised && node.state !== "down";
  });
  const names = new Set<string>(input.pinnedModels);
  for (const advert of adverts) for (const model of advert.models) names.add(model.name);
  const models = [...names].sort(byText).map((model): ModelHealth => {
    const readyOn: string[] = [];
    const loadingOn: string[] = [];
    const loadableOn: string[] = [];
    const estimate = input.memoryEstimates.get(model);
    for (const advert of serving) {
      const held = advert.models.find((entry) => entry.name === model);
      const isBroken = advert.nodeId === input.localNodeId && localFailing.has(model);
      if (held?.state === "ready" && !isBroken) readyOn.push(advert.nodeId);
      else if (held?.state === "loading") loadingOn.push(advert.nodeId);
      else if (held === undefined && advert.memory.budgetBytes - advert.memory.usedBytes >= (estimate ?? 0))
        loadableOn.push(advert.nodeId);
    }
    const how: ModelServing =
      readyOn.length > 0
        ? "ready"
        : loadingOn.length > 0
          ? "loading"
          : loadableOn.length > 0
            ? "loadable"
            : "none";
    const reason =
      how === "ready"
        ? ""
        : how === "loading"
          ? `loading on ${loadingOn.join(", ")}`
          : how === "loadable"
            ? `not loaded; ${estimate === undefined ? "memory need unknown, " : ""}can load on ${loadableOn.join(", ")}`
            : serving.length === 0
              ? "no live node accepts work"
              : `no live accepting node holds it or has ${estimate ?? 0} bytes free to load it`;
    return {
      model,
      isPinned: input.pinnedModels.includes(model),
      state: how === "none" ? "down" : "up",
      serving: how,
      readyOn,
      loadingOn,
      loadableOn,
      reason,
    };
  });
  const reasons: string[] = [];
  if (serving.length === 0) reasons.push("no live node accepts work");
  for (const model of models)
    if (model.isPinned && model.state === "down")
      reasons.push(`pinned model ${model.model}: ${model.reason}`);
  const isDown = reasons.length > 0;
  if (!isDown)
    for (const node of nodes)
      if (node.state !== "up") reasons.push(`node ${node.nodeId} ${node.state}: ${node.reasons.join("; ")}`);
  const state: ServiceState = isDown ? "down" : reasons.length > 0 ? "degraded" : "up";
  return { state, reasons, nodes, models };
}
