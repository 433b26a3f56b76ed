/**
 * --cluster (issue #18): wraps the local scheduler in the ClusterScheduler, checks the secret
 * rule, and names the node once its port is known. Without --cluster nothing here runs.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { affinityPlacement, ClusterScheduler } from "../cluster/index.js";
import type { Config } from "../config/index.js";
import { AppError, isLoopback, systemTime, type Logger } from "../core/index.js";
import type { OwnedScheduler } from "../scheduler/index.js";

/** Refuses --cluster without --cluster-secret on a node other machines can reach. */
export function checkClusterSettings(config: Readonly<Config>): void {
  if (config.cluster !== "" && config.clusterSecret === "" && !isLoopback(config.host))
    throw new AppError(
      "bad-request",
      `--cluster on a node listening on ${config.host} needs a shared --cluster-secret (set RAWRXD_CLUSTER_SECRET on every node) so only cluster nodes can use the internal routes.`,
    );
}

export function createClusterScheduler(options: {
  config: Readonly<Config>;
  local: OwnedScheduler;
  logger: Logger;
  version: string;
  estimateMemory: (model: string) => Promise<number>;
  onRanElsewhere?: ((requestId: string) => void) | undefined;
}): ClusterScheduler | undefined {
  const { config } = options;
  if (config.cluster === "") return undefined;
  return new ClusterScheduler({
    local: options.local,
    redisUrl: config.cluster,
    secret: config.clusterSecret,
    time: systemTime,
    logger: options.logger,
    version: options.version,
    parallel: config.parallel,
    maxQueued: Math.min(config.maxQueued, config.maxQueuedPerModel),
    queueTimeoutMs: config.queueTimeoutMs,
    agingStepMs: config.queuePolicy === "fifo" ? 0 : config.priorityAgingMs,
    memoryEstimateBytes: options.estimateMemory,
    // Model-affine placement (ADR 0036): holders first, a load only when none holds it or all are full.
    placement: affinityPlacement,
    onRanElsewhere: options.onRanElsewhere,
  });
}

/**
 * The node's one id, for the cluster, its audit chain, the shared store and the `node` label of
 * its metrics: --node-id; clustered without it, hostname-port (a random suffix for port 0);
 * undefined on a single node (each component keeps its own default).
 */
export function nodeIdOf(config: Readonly<Config>): string | undefined {
  if (config.nodeId !== "") return config.nodeId;
  if (config.cluster === "") return undefined;
  const suffix = config.port !== 0 ? String(config.port) : randomBytes(3).toString("hex");
  return `${hostname()}-${suffix}`.replace(/[^A-Za-z0-9._-]/g, "-");
}

/** Joins the cluster as `nodeId` at --advertise-url (default loopback). */
export async function joinCluster(
  cluster: ClusterScheduler,
  options: { config: Readonly<Config>; nodeId: string; port: number; logger: Logger },
): Promise<void> {
  const { config, nodeId, port, logger } = options;
  const url =
    config.advertiseUrl !== "" ? config.advertiseUrl.replace(/\/$/, "") : `http://127.0.0.1:${port}`;
  await cluster.start({ nodeId, url });
  logger.info("Joined the cluster", { node: nodeId, url });
}
