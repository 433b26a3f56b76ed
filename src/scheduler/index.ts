/**
 * The scheduler, behind one `Scheduler` interface: the request flow (priority queue with aging,
 * sequence slots, preemption, deadlines, position and ETA) and model residency (load,
 * memory-aware LRU eviction, keep-alive, unload). Outside this folder only the interface is
 * named; the composition root builds the in-process one with createScheduler.
 */
export type {
  Scheduler,
  OwnedScheduler,
  SubmitOptions,
  EmbedRequest,
  RequestState,
  SchedulerSnapshot,
  LoadedModelView,
  ModelQueueView,
  PriorityQueueView,
  RequestStatus,
  ClusterNodeView,
} from "./contract.js";
export { createScheduler } from "./model-queue.js";
export type { SchedulerOptions, ModelResolver, ResolvedModel } from "./scheduler-options.js";
export {
  availableMemoryBytes,
  emptyMemoryEstimate,
  memoryMarginBytes,
  type MemoryEstimate,
} from "./memory-budget.js";
export {
  selectQueueOrdering,
  orderByPriorityWithAging,
  orderFirstComeFirstServed,
  choosePreemptionVictim,
  effectiveRank,
  isPreemptionInEffect,
  resolveKeepAliveMs,
  smoothServiceMs,
  classifyFailure,
  type QueuePolicyName,
} from "./policies.js";
