/**
 * Model residency: which models are loading, loaded or being unloaded, as an explicit state
 * union (STYLE.md §2). Loads of one model are shared by every request that waits on them.
 */
import type { MonotonicMs, Timer, WallMs } from "../core/index.js";
import type { ModelRunner } from "../engine/index.js";
import type { MemoryEstimate } from "./memory-budget.js";
import type { ModelSlots } from "./model-slots.js";

export type ResidencyState =
  | { kind: "loading"; ready: Promise<ModelRunner>; startedMs: MonotonicMs }
  | { kind: "ready"; runner: ModelRunner; loadedMs: MonotonicMs }
  | { kind: "unloading"; done: Promise<void> };

export type UnloadReason = "idle" | "evicted" | "requested" | "shutdown";

export interface Resident {
  name: string;
  state: ResidencyState;
  /** The request flow's sequences on this model's runner; they go when the model does. */
  slots: ModelSlots;
  estimate: MemoryEstimate;
  isPinned: boolean;
  /** Requests holding or waiting for this model (queued, loading or running). */
  active: number;
  lastUsedMs: MonotonicMs;
  /** How long the idle model stays loaded: -1 forever. */
  keepAliveMs: number;
  /** Wall time, because users see it (/api/ps expires_at); the timer itself runs on monotonic time. */
  expiresAtMs: WallMs | undefined;
  idleTimer: Timer | undefined;
}

/** Eviction policy: the least recently used idle model; never a pinned one or one with work. */
export function findModelToEvict(residents: Iterable<Resident>): Resident | undefined {
  let candidate: Resident | undefined;
  for (const resident of residents) {
    if (resident.active > 0 || resident.isPinned || resident.state.kind !== "ready") continue;
    if (candidate === undefined || resident.lastUsedMs < candidate.lastUsedMs) candidate = resident;
  }
  return candidate;
}
