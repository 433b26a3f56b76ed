/**
 * Several RawrXD nodes as one server on Redis (BullMQ) and PostgreSQL (issue #18). Without
 * `--cluster` nothing here runs and the single-node product is unchanged.
 */
export type {
  NodeAdvert,
  NodeModelAdvert,
  Membership,
  Placement,
  PlacementRequest,
  PlacementPolicy,
} from "./contract.js";
export {
  ClusterScheduler,
  type ClusterIdentity,
  type ClusterSchedulerOptions,
  type ClusterSnapshot,
} from "./cluster-scheduler.js";
export { RedisMembership, type RedisMembershipOptions } from "./membership.js";
export { residentFirstPlacement } from "./resident-first.js";
export { clusterSecretHeader, errorFrame, type RunBody, type RunFrame } from "./wire.js";
export { callsPath, type HolderCall, type HolderAnswer } from "./holder-calls.js";
export {
  affinityPlacement,
  createAffinityPlacement,
  randomPlacement,
  seededRandom,
  type AffinityOptions,
} from "./placement.js";
export {
  clusterView,
  clusterQueueJson,
  clusterMetrics,
  type ClusterView,
  type ClusterNodeView,
  type ClusterModelView,
  type ClusterMetrics,
} from "./cluster-view.js";
