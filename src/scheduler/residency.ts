/**
 * Model residency: which models are loaded, loading, or being unloaded, as an explicit state
 * union (STYLE.md §2). Loads of one model are shared by every request that waits on them.
 */
import type { ModelRunner } from "../engine/index.js";
import type { SlotSemaphore } from "./slot-semaphore.js";

export type ResidencyState =
  | { kind: "loading"; ready: Promise<ModelRunner>; startedMs: number }
  | { kind: "ready"; runner: ModelRunner; loadedMs: number }
  | { kind: "unloading"; done: Promise<void> };

export interface Resident {
  name: string;
  state: ResidencyState;
  slots: SlotSemaphore;
  /** Generations running or queued on this model. */
  active: number;
  lastUsedMs: number;
  /** When the idle model unloads: -1 never. */
  keepAliveMs: number;
  expiresAtMs: number | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

/** Eviction policy: the least recently used idle model, never one with work in flight. */
export function findModelToEvict(residents: Iterable<Resident>): Resident | undefined {
  let candidate: Resident | undefined;
  for (const resident of residents) {
    if (resident.active > 0 || resident.state.kind !== "ready") continue;
    if (candidate === undefined || resident.lastUsedMs < candidate.lastUsedMs) candidate = resident;
  }
  return candidate;
}
