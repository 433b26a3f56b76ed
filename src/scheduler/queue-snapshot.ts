/**
 * The scheduler's state as plain data: loaded models (/api/ps, `rawrxd ps`), the queue per model
 * and priority (/v1/queue), and each request's position with an estimated start time. Built
 * from the request flow's and the residency manager's records at one instant.
 */
import { priorities, type MonotonicMs, type Priority } from "../core/index.js";
import type {
  LoadedModelView,
  ModelQueueView,
  PriorityQueueView,
  RequestStatus,
  SchedulerSnapshot,
} from "./contract.js";
import type { Resident } from "./residency.js";
import type { TrackedRequest } from "./request-registry.js";

export interface SnapshotSources {
  nowMs: MonotonicMs;
  settings: Pick<
    SchedulerSnapshot,
    "queued" | "maxQueued" | "policy" | "isPreemptionEnabled" | "agingStepMs" | "memoryBudgetBytes"
  >;
  residents: readonly Resident[];
  requests: readonly TrackedRequest[];
}

export function buildSnapshot(sources: SnapshotSources): SchedulerSnapshot {
  const byName = new Map(sources.residents.map((resident) => [resident.name, resident]));
  // Each model's wait list in start order, sorted once for all its requests' positions.
  const positions = new Map(
    sources.residents.map((resident) => [
      resident.name,
      new Map(resident.slots.waiting.map((waiting, index) => [waiting.requestId, index])),
    ]),
  );
  return {
    ...sources.settings,
    loaded: sources.residents.flatMap(loadedView),
    models: sources.residents.map((resident) => modelView(resident, sources)),
    requests: sources.requests.map((request) =>
      requestStatus(request, {
        resident: byName.get(request.model),
        index: positions.get(request.model)?.get(request.id),
        nowMs: sources.nowMs,
      }),
    ),
  };
}

function loadedView(resident: Resident): LoadedModelView[] {
  if (resident.state.kind !== "ready") return [];
  return [
    {
      name: resident.name,
      info: structuredClone(resident.state.runner.info),
      active: resident.slots.running.size,
      queued: resident.slots.waiting.length,
      isPinned: resident.isPinned,
      expiresAtMs: resident.expiresAtMs,
    },
  ];
}

function modelView(resident: Resident, sources: SnapshotSources): ModelQueueView {
  const perPriority = Object.fromEntries(
    priorities.map((priority) => [priority, { queued: 0, running: 0, oldestWaitMs: null as number | null }]),
  ) as Record<Priority, PriorityQueueView>;
  for (const request of sources.requests) {
    if (request.model !== resident.name) continue;
    const view = perPriority[request.priority];
    if (request.state === "running") view.running += 1;
    else {
      view.queued += 1;
      view.oldestWaitMs = Math.max(view.oldestWaitMs ?? 0, Math.round(sources.nowMs - request.enqueuedMs));
    }
  }
  const averageServiceMs = resident.slots.averageServiceMs;
  return {
    model: resident.name,
    state: resident.state.kind,
    isPinned: resident.isPinned,
    sequences: { total: resident.slots.parallel, active: resident.slots.running.size },
    memoryEstimateBytes: resident.estimate.totalBytes,
    priorities: perPriority,
    averageServiceMs: averageServiceMs === undefined ? null : Math.round(averageServiceMs),
  };
}

function requestStatus(
  request: TrackedRequest,
  place: { resident: Resident | undefined; index: number | undefined; nowMs: MonotonicMs },
): RequestStatus {
  const { resident, index, nowMs } = place;
  let position: number | null = null;
  let estimatedStartMs: number | null = null;
  if (request.state === "running") {
    estimatedStartMs = 0;
  } else if (resident !== undefined && request.state === "queued") {
    const serviceMs = resident.slots.averageServiceMs;
    if (index !== undefined) {
      position = index + 1;
      if (serviceMs !== undefined) {
        const rounds = Math.ceil((index + 1 - resident.slots.freeSlots) / resident.slots.parallel);
        estimatedStartMs = Math.max(0, Math.round(rounds * serviceMs));
      }
    }
  }
  return {
    id: request.id,
    model: request.model,
    priority: request.priority,
    state: request.state,
    waitedMs: Math.round(nowMs - request.enqueuedMs),
    position,
    estimatedStartMs,
    preemptions: request.preemptions,
  };
}
