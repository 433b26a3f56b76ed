/** The `cluster` section of GET /v1/sla/status (camelCase like the rest of that answer). */
import type { ClusterHealth, ModelServing } from "./cluster-health.js";
import type { Availability } from "./sla-arithmetic.js";
import type { ServiceState } from "./service-state.js";
import type { Incident } from "./sla-store.js";

export interface ClusterSlaJson {
  state: ServiceState;
  /** Why the cluster is not up (empty when up). */
  reasons: string[];
  checkedAt: string;
  /** The node answering (the cluster as this node sees it). */
  nodeId: string;
  /** From when this node started watching the cluster (in memory: a restart begins again) to checkedAt. */
  availability: AvailabilityJson;
  nodes: {
    nodeId: string;
    host: string;
    state: ServiceState;
    reasons: string[];
    accepting: boolean;
    advertised: boolean;
    local: boolean;
    heartbeatAgeSeconds: number;
    availability: AvailabilityJson;
  }[];
  models: {
    model: string;
    pinned: boolean;
    state: "up" | "down";
    serving: ModelServing;
    readyOn: string[];
    loadingOn: string[];
    loadableOn: string[];
    reason: string;
  }[];
  /** Open incidents first, then recent closed ones; `scope` is `cluster` or `node:<id>`. */
  incidents: {
    id: number;
    scope: string;
    start: string;
    end: string | null;
    worstState: string;
    cause: string[];
  }[];
}

interface AvailabilityJson {
  observed: number | null;
  conservative: number | null;
  coverage: number | null;
  since: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function availabilityJson(
  figures: (Availability & { sinceMs: number | undefined }) | undefined,
): AvailabilityJson {
  return {
    observed: figures?.observed ?? null,
    conservative: figures?.conservative ?? null,
    coverage: figures?.coverage ?? null,
    since: figures?.sinceMs === undefined ? null : iso(figures.sinceMs),
  };
}

export function clusterSlaJson(input: {
  nodeId: string;
  health: ClusterHealth;
  checkedAtMs: number;
  availability: (scope: string) => (Availability & { sinceMs: number | undefined }) | undefined;
  incidents: readonly (Incident & { scope: string })[];
}): ClusterSlaJson {
  const { health } = input;
  return {
    state: health.state,
    reasons: health.reasons,
    checkedAt: iso(input.checkedAtMs),
    nodeId: input.nodeId,
    availability: availabilityJson(input.availability("cluster")),
    nodes: health.nodes.map((node) => ({
      nodeId: node.nodeId,
      host: hostOf(node.url),
      state: node.state,
      reasons: node.reasons,
      accepting: node.isAccepting,
      advertised: node.isAdvertised,
      local: node.isLocal,
      heartbeatAgeSeconds: node.heartbeatAgeSeconds,
      availability: availabilityJson(input.availability(`node:${node.nodeId}`)),
    })),
    models: health.models.map((model) => ({
      model: model.model,
      pinned: model.isPinned,
      state: model.state,
      serving: model.serving,
      readyOn: model.readyOn,
      loadingOn: model.loadingOn,
      loadableOn: model.loadableOn,
      reason: model.reason,
    })),
    incidents: input.incidents.map((incident) => ({
      id: incident.id,
      scope: incident.scope,
      start: iso(incident.startMs),
      end: incident.endMs === undefined ? null : iso(incident.endMs),
      worstState: incident.worstState,
      cause: incident.cause,
    })),
  };
}
