/**
 * The cluster's default placement until an affinity policy replaces it: nodes that hold the
 * model (ready or loading) first, most free sequences first; else the live, accepting node with
 * the most free memory that fits the model; else none.
 */
import type { NodeAdvert, Placement, PlacementPolicy } from "./contract.js";

function freeSequences(node: NodeAdvert, model: string): number {
  const held = node.models.find((entry) => entry.name === model);
  return held === undefined ? 0 : held.sequences.total - held.sequences.active;
}

export const residentFirstPlacement: PlacementPolicy = ({ model, memoryEstimateBytes, nodes }): Placement => {
  const live = nodes.filter((node) => node.isAccepting);
  const holders = live
    .filter((node) => node.models.some((entry) => entry.name === model && entry.state !== "unloading"))
    .sort((a, b) => freeSequences(b, model) - freeSequences(a, model) || a.nodeId.localeCompare(b.nodeId));
  if (holders.length > 0) return { kind: "resident", nodeIds: holders.map((node) => node.nodeId) };
  const free = (node: NodeAdvert): number => node.memory.budgetBytes - node.memory.usedBytes;
  const fits = live
    .filter((node) => free(node) >= memoryEstimateBytes)
    .sort((a, b) => free(b) - free(a) || a.nodeId.localeCompare(b.nodeId));
  const chosen = fits[0];
  if (chosen === undefined)
    return {
      kind: "none",
      reason: `No live cluster node has ${memoryEstimateBytes} bytes free for "${model}".`,
    };
  return { kind: "load", nodeId: chosen.nodeId, reason: `most free memory (${free(chosen)} bytes)` };
};
