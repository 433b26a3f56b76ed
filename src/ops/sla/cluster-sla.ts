/**
 * The cluster SLA (issue #18 item 5): src/app calls `observe(adverts, localStatus)` every
 * health-check tick with the live nodes' adverts and this node's own SlaManager status. It
 * keeps a timeline and incidents for the cluster and for each node (in memory, on this node),
 * emits `cluster-sla-state` and `cluster-sla-incident`, and gives the `cluster` section of
 * GET /v1/sla/status. A node whose advert vanished while it accepted work (killed, cut off)
 * stays `down` until `forgetAfterMs` after it was last seen; one that drained first is dropped.
 */
import type { EventBus, TimePort } from "../../core/index.js";
import {
  clusterHealthOf,
  type ClusterAdvert,
  type ClusterHealth,
  type LocalSlaStatus,
} from "./cluster-health.js";
import { clusterSlaJson, type ClusterSlaJson } from "./cluster-sla-json.js";
import { StateTrack, type IncidentChange, type Transition } from "./state-track.js";
import type { Incident } from "./sla-store.js";

export interface ClusterSlaSettings {
  /** How often observe() is called (the health-check interval). */
  intervalMs: number;
  /** Models that must stay servable (--pin). */
  pinnedModels: readonly string[];
  /** A heartbeat older than this is stale (default 15 s). */
  staleAfterMs?: number;
  /** How long a node that vanished without draining is reported down (default 10 min). */
  forgetAfterMs?: number;
  /** Closed incidents kept for the status (default 50). */
  keepClosed?: number;
}

export interface ClusterSlaOptions {
  /** This node's id (the membership's). */
  nodeId: string;
  time: TimePort;
  events?: EventBus;
  settings: ClusterSlaSettings;
}

export type ClusterIncident = Incident & { scope: string };

interface KnownNode {
  advert: ClusterAdvert;
  lastSeenMs: number;
  isAdvertised: boolean;
}

export class ClusterSla {
  readonly #options: ClusterSlaOptions;
  readonly #known = new Map<string, KnownNode>();
  readonly #estimates = new Map<string, number>();
  readonly #tracks = new Map<string, StateTrack>();
  readonly #closed: ClusterIncident[] = [];
  #lastIncidentId = 0;
  #health: ClusterHealth | undefined;
  #checkedAtMs: number | undefined;

  constructor(options: ClusterSlaOptions) {
    this.#options = options;
  }

  /** One tick: the live nodes' adverts (this node's included) and this node's own status. */
  observe(adverts: readonly ClusterAdvert[], localStatus?: LocalSlaStatus): ClusterHealth {
    const { settings, time } = this.#options;
    const nowMs = time.wallNow();
    const forgetAfterMs = settings.forgetAfterMs ?? 10 * 60_000;
    const live = new Set(adverts.map((advert) => advert.nodeId));
    for (const advert of adverts) {
      this.#known.set(advert.nodeId, { advert, lastSeenMs: nowMs, isAdvertised: true });
      for (const model of advert.models)
        if (model.memoryEstimateBytes !== undefined && model.memoryEstimateBytes > 0)
          this.#estimates.set(model.name, model.memoryEstimateBytes);
    }
    for (const [nodeId, known] of this.#known) {
      if (live.has(nodeId)) continue;
      const isPlanned = !known.advert.isAccepting;
      if (isPlanned || nowMs - known.lastSeenMs > forgetAfterMs) {
        this.#known.delete(nodeId);
        const reason = isPlanned
          ? "left the cluster after draining"
          : `forgotten: no advert for ${(nowMs - known.lastSeenMs) / 1000} s`;
        this.#apply(`node:${nodeId}`, this.#track(`node:${nodeId}`).close(nowMs, reason));
        this.#tracks.delete(`node:${nodeId}`);
      } else known.isAdvertised = false;
    }
    const health = clusterHealthOf({
      adverts: [...this.#known.values()].map((known) => ({
        ...known.advert,
        isAdvertised: known.isAdvertised,
      })),
      localNodeId: this.#options.nodeId,
      localStatus,
      pinnedModels: settings.pinnedModels,
      memoryEstimates: this.#estimates,
      nowMs,
      staleAfterMs: settings.staleAfterMs ?? 15_000,
    });
    this.#record("cluster", health.state, { reasons: health.reasons, nowMs });
    for (const node of health.nodes)
      this.#record(`node:${node.nodeId}`, node.state, { reasons: node.reasons, nowMs });
    this.#health = health;
    this.#checkedAtMs = nowMs;
    return health;
  }

  /** Open incidents first (newest first), then the kept closed ones (newest first). */
  incidents(): ClusterIncident[] {
    const open = [...this.#tracks.values()]
      .filter((track) => track.openIncident !== undefined)
      .map((track) => ({ ...track.openIncident!, scope: track.scope }));
    return [...open.sort((left, right) => right.id - left.id), ...[...this.#closed].reverse()];
  }

  /** The `cluster` section of GET /v1/sla/status; undefined before the first observe(). */
  json(): ClusterSlaJson | undefined {
    if (this.#health === undefined || this.#checkedAtMs === undefined) return undefined;
    // Figures as of the last tick: the time since is not observed yet, not unknown.
    const nowMs = this.#checkedAtMs;
    return clusterSlaJson({
      nodeId: this.#options.nodeId,
      health: this.#health,
      checkedAtMs: this.#checkedAtMs,
      availability: (scope) => this.#tracks.get(scope)?.availability(nowMs),
      incidents: this.incidents(),
    });
  }

  #track(scope: string): StateTrack {
    let track = this.#tracks.get(scope);
    if (track === undefined) {
      track = new StateTrack(scope, () => (this.#lastIncidentId += 1));
      this.#tracks.set(scope, track);
    }
    return track;
  }

  #record(
    scope: string,
    state: ClusterHealth["state"],
    observed: { reasons: string[]; nowMs: number },
  ): void {
    const { reasons, nowMs } = observed;
    const { transition, incidents } = this.#track(scope).record({
      state,
      reasons,
      nowMs,
      intervalMs: this.#options.settings.intervalMs,
    });
    if (transition !== undefined) this.#emitState(scope, transition, nowMs);
    this.#apply(scope, incidents);
  }

  #emitState(scope: string, transition: Transition, atMs: number): void {
    this.#options.events?.emit("cluster-sla-state", { scope, ...transition, atMs });
  }

  #apply(scope: string, changes: IncidentChange[]): void {
    const keep = this.#options.settings.keepClosed ?? 50;
    for (const { action, incident } of changes) {
      if (action === "closed") {
        this.#closed.push({ ...incident, scope });
        if (this.#closed.length > keep) this.#closed.shift();
      }
      this.#options.events?.emit("cluster-sla-incident", {
        scope,
        id: incident.id,
        action,
        worstState: incident.worstState,
        cause: incident.cause,
        startMs: incident.startMs,
        endMs: incident.endMs,
      });
    }
  }
}
