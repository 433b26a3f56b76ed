/** A node's advert (src/cluster/contract.ts) from its local scheduler's snapshot. */
import { priorities } from "../core/index.js";
import type { SchedulerSnapshot } from "../scheduler/index.js";
import type { NodeAdvert, NodeModelAdvert } from "./contract.js";

export function advertOf(
  snapshot: SchedulerSnapshot,
  node: Pick<NodeAdvert, "nodeId" | "url" | "heartbeatAtMs" | "startedAtMs" | "version" | "isAccepting">,
): NodeAdvert {
  const models: NodeModelAdvert[] = snapshot.models.map((model) => ({
    name: model.model,
    state: model.state,
    sequences: model.sequences,
    queued: Object.fromEntries(
      priorities.map((priority) => [priority, model.priorities[priority].queued]),
    ) as NodeModelAdvert["queued"],
    memoryEstimateBytes: model.memoryEstimateBytes,
    averageServiceMs: model.averageServiceMs,
    loadMs: null,
  }));
  return {
    ...node,
    models,
    memory: {
      budgetBytes: snapshot.memoryBudgetBytes,
      usedBytes: models.reduce((sum, model) => sum + model.memoryEstimateBytes, 0),
    },
  };
}
