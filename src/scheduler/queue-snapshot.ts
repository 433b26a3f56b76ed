/**
 * Read-only views of the scheduler: loaded models (/api/ps, `rawrxd ps`), the queue per model
 * and priority (/v1/queue), and one request's position with an estimated start time.
 */
import { priorities, type Priority } from "../core/index.js";
import type { ModelQueue } from "./model-queue.js";
import type { Resident } from "./residency.js";

export interface PriorityQueueView {
  queued: number;
  running: number;
  oldestWaitMs: number | null;
}

export interface ModelQueueView {
  model: string;
  state: Resident["state"]["kind"];
  isPinned: boolean;
  sequences: { total: number; active: number };
  memoryEstimateBytes: number;
  priorities: Record<Priority, PriorityQueueView>;
  /** Smoothed time a request holds a sequence, for ETAs. */
  averageServiceMs: number | null;
}

export interface QueueSnapshot {
  queued: number;
  maxQueued: number;
  policy: string;
  isPreemptionEnabled: boolean;
  agingStepMs: number;
  models: ModelQueueView[];
}

export function queueSnapshot(queue: ModelQueue): QueueSnapshot {
  const now = queue.options.clock.now();
  const models: ModelQueueView[] = [];
  for (const resident of queue.residents.values()) {
    const perPriority = Object.fromEntries(
      priorities.map((priority) => [
        priority,
        { queued: 0, running: 0, oldestWaitMs: null as number | null },
      ]),
    ) as Record<Priority, PriorityQueueView>;
    for (const request of queue.requests.values()) {
      if (request.model !== resident.name) continue;
      const view = perPriority[request.priority];
      if (request.state === "running") view.running += 1;
      else {
        view.queued += 1;
        view.oldestWaitMs = Math.max(view.oldestWaitMs ?? 0, Math.round(now - request.enqueuedMs));
      }
    }
    models.push({
      model: resident.name,
      state: resident.state.kind,
      isPinned: resident.isPinned,
      sequences: { total: resident.slots.parallel, active: resident.slots.running.size },
      memoryEstimateBytes: resident.estimate.totalBytes,
      priorities: perPriority,
      averageServiceMs: resident.serviceMs === undefined ? null : Math.round(resident.serviceMs),
    });
  }
  const { options } = queue;
  return {
    queued: queue.queuedCount,
    maxQueued: options.maxQueued,
    policy: options.queuePolicy,
    isPreemptionEnabled: queue.isPreemptionEnabled,
    agingStepMs: options.agingStepMs,
    models,
  };
}

export interface RequestStatus {
  id: string;
  model: string;
  priority: Priority;
  state: string;
  waitedMs: number;
  /** 1-based place among the model's waiting requests, in the order they will start. */
  position: number | null;
  /** Estimated ms until it starts, from the model's recent service times; null when unknown. */
  estimatedStartMs: number | null;
  preemptions: number;
}

export function requestStatus(queue: ModelQueue, id: string): RequestStatus | undefined {
  const request = queue.requests.get(id);
  if (request === undefined) return undefined;
  const now = queue.options.clock.now();
  const resident = queue.residents.get(request.model);
  let position: number | null = null;
  let estimatedStartMs: number | null = null;
  if (request.state === "running") {
    estimatedStartMs = 0;
  } else if (resident !== undefined && request.state === "queued") {
    const index = resident.slots.waiting.findIndex((waiting) => waiting.requestId === id);
    if (index !== -1) {
      position = index + 1;
      if (resident.serviceMs !== undefined) {
        const rounds = Math.ceil((index + 1 - resident.slots.freeSlots) / resident.slots.parallel);
        estimatedStartMs = Math.max(0, Math.round(rounds * resident.serviceMs));
      }
    }
  }
  return {
    id,
    model: request.model,
    priority: request.priority,
    state: request.state,
    waitedMs: Math.round(now - request.enqueuedMs),
    position,
    estimatedStartMs,
    preemptions: request.preemptions,
  };
}
