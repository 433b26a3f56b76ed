/** ModelQueue: admission, model residency (load, keep-alive, LRU eviction) and sequence slots. */
export { ModelQueue, type ModelQueueOptions, type ModelResolver, type ResolvedModel, type SubmitOptions, type LoadedModelView } from "./model-queue.js";
export { findModelToEvict, type Resident } from "./residency.js";
export { SlotSemaphore } from "./slot-semaphore.js";
