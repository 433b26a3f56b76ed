/**
 * The cluster SLA's events (issue #18 item 5): the state of the cluster and of each node as
 * this node sees them from the adverts, and incidents opening and closing on those transitions.
 * `scope` is `cluster` or `node:<node id>`. ops/sla emits them; any subscriber may read them.
 */

export interface ClusterSlaEvents {
  "cluster-sla-state": {
    scope: string;
    state: "up" | "degraded" | "down";
    previous: "up" | "degraded" | "down" | "unknown";
    reasons: string[];
    atMs: number;
  };
  "cluster-sla-incident": {
    scope: string;
    id: number;
    action: "opened" | "closed";
    worstState: "degraded" | "down" | "unknown";
    cause: string[];
    startMs: number;
    endMs: number | undefined;
  };
}
