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
