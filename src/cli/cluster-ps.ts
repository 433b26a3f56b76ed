/**
 * `rawrxd ps` on a cluster node (issue #18): when GET /v1/queue carries the live nodes' adverts
 * (`nodes`, the NodeAdvert shape), one row per node and model with a NODE column; a node that
 * holds nothing still gets a row, and one that takes no work is marked draining.
 */
import { z } from "zod";
import { formatBytes } from "../core/index.js";
import { formatTable } from "./format.js";

const queuedWire = z.object({ high: z.number(), normal: z.number(), low: z.number() });

/** The part of a NodeAdvert the table shows; other fields pass unread. */
export const clusterNodesWire = z.array(
  z.object({
    nodeId: z.string(),
    isAccepting: z.boolean(),
    models: z.array(
      z.object({
        name: z.string(),
        state: z.string(),
        sequences: z.object({ total: z.number(), active: z.number() }),
        queued: queuedWire,
        memoryEstimateBytes: z.number(),
      }),
    ),
  }),
);

export type ClusterNodesWire = z.infer<typeof clusterNodesWire>;

/** The nodes of a /v1/queue answer, or undefined when it has none (a single node, or Ollama). */
export function clusterNodesOf(queue: unknown): ClusterNodesWire | undefined {
  if (typeof queue !== "object" || queue === null || !("nodes" in queue)) return undefined;
  const parsed = clusterNodesWire.safeParse(queue.nodes);
  return parsed.success ? parsed.data : undefined;
}

export function clusterPsTable(nodes: ClusterNodesWire): string {
  const sorted = [...nodes].sort((left, right) => left.nodeId.localeCompare(right.nodeId));
  const rows = sorted.flatMap((node) => {
    const name = node.isAccepting ? node.nodeId : `${node.nodeId} (draining)`;
    if (node.models.length === 0) return [[name, "", "", "", "", ""]];
    return [...node.models]
      .sort((left, right) => left.name.localeCompare(right.name))
      .map((model) => [
        name,
        model.name,
        model.state,
        formatBytes(model.memoryEstimateBytes),
        `${model.sequences.active}/${model.sequences.total}`,
        String(model.queued.high + model.queued.normal + model.queued.low),
      ]);
  });
  return formatTable(["NODE", "NAME", "STATE", "SIZE", "SEQUENCES", "QUEUED"], rows);
}
