/**
 * ModelQueue: priority queue with aging, model slots, preemption, memory-aware admission and
 * LRU eviction, and read-only views of all of it for /v1/queue and /api/ps.
 */
export {
  ModelQueue,
  type ModelQueueOptions,
  type ModelResolver,
  type ResolvedModel,
  type SubmitOptions,
  type LoadedModelView,
} from "./model-queue.js";
export { queueSnapshot, requestStatus, type QueueSnapshot, type RequestStatus } from "./queue-snapshot.js";
export { findModelToEvict, type Resident } from "./residency.js";
export {
  availableMemoryBytes,
  estimateModelMemory,
  memoryMarginBytes,
  formatBytes,
  type MemoryEstimate,
} from "./memory-budget.js";
export {
  selectQueueOrdering,
  orderByPriorityWithAging,
  orderFirstComeFirstServed,
  choosePreemptionVictim,
  effectiveRank,
  type QueuePolicyName,
} from "./policies.js";
