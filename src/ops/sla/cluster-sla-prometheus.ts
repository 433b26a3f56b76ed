/**
 * The cluster SLA on /metrics (when clustered): the cluster's state and each node's state as
 * this node sees them, read from the last tick when scraped.
 */
import { Gauge, type Registry } from "prom-client";
import type { ClusterSlaJson } from "./cluster-sla-json.js";

const states = ["up", "degraded", "down"] as const;

export function registerClusterSlaMetrics(
  registry: Registry,
  status: () => ClusterSlaJson | undefined,
): void {
  const registers = [registry];
  new Gauge({
    name: "rawrxd_cluster_sla_state",
    help: "Cluster state from the node adverts (up while every pinned model can be served): 1 for the current state.",
    labelNames: ["state"],
    registers,
    collect() {
      const now = status();
      this.reset();
      if (now !== undefined) for (const state of states) this.set({ state }, now.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: "rawrxd_cluster_node_sla_state",
    help: "Each node's state as this node sees it from the adverts: 1 for the current state.",
    labelNames: ["node", "state"],
    registers,
    collect() {
      const now = status();
      this.reset();
      for (const node of now?.nodes ?? [])
        for (const state of states) this.set({ node: node.nodeId, state }, node.state === state ? 1 : 0);
    },
  });
}
