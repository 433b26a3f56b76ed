/**
 * A sliding window as a ring of time slots, each holding the leaf series (model × priority)
 * that ended in it. A window of W has 60 slots of W/60: reading it merges the current slot and
 * the 59 before, so it covers the last W to within one slot (1 s for 1 m, 5 s for 5 m, 1 min for
 * 1 h). A slot is reset when the ring comes round to it again, so memory stays bounded. Slots
 * are wall-clock (calendar) time, so the 1 h ring's slots are the persisted per-minute rollups.
 */
import type { WallMs } from "../../core/index.js";
import type { MetricValues, RequestRecord } from "./request-record.js";
import { statsAt, type SeriesStats } from "./series-stats.js";

export const slotsPerWindow = 60;

export interface WindowSlot {
  /** floor(time / slotMs): which slot of time this is. */
  epoch: number;
  series: Map<string, SeriesStats>;
  /** Changed since it was last persisted (rollups). */
  isDirty: boolean;
}

export class SlidingWindow {
  readonly windowMs: number;
  readonly slotMs: number;
  readonly #slots: (WindowSlot | undefined)[] = new Array<WindowSlot | undefined>(slotsPerWindow);

  readonly #onEvict: ((slot: WindowSlot) => void) | undefined;

  /** `onEvict` sees a slot before the ring reuses its place (to persist one still dirty). */
  constructor(windowMs: number, onEvict?: (slot: WindowSlot) => void) {
    this.windowMs = windowMs;
    this.slotMs = windowMs / slotsPerWindow;
    this.#onEvict = onEvict;
  }

  epochOf(timeMs: WallMs): number {
    return Math.floor(timeMs / this.slotMs);
  }

  /** Adds a record to the slot of `atMs`; returns false when that slot has already left the ring. */
  add(options: { atMs: WallMs; seriesKey: string; record: RequestRecord; values: MetricValues }): boolean {
    const slot = this.#slotFor(this.epochOf(options.atMs));
    if (slot === undefined) return false;
    statsAt(slot.series, options.seriesKey).add(options.record, options.values);
    slot.isDirty = true;
    return true;
  }

  /** Puts stored stats (a rollup) back into their slot, merged with what is there. */
  seed(epoch: number, seriesKey: string, stats: SeriesStats): void {
    const slot = this.#slotFor(epoch);
    if (slot === undefined) return;
    const existing = slot.series.get(seriesKey);
    if (existing === undefined) slot.series.set(seriesKey, stats);
    else existing.merge(stats);
  }

  /** The leaf series over the window ending at `nowMs`, each merged across its slots. */
  collect(nowMs: WallMs): Map<string, SeriesStats> {
    const merged = new Map<string, SeriesStats>();
    for (const slot of this.liveSlots(nowMs)) {
      for (const [key, stats] of slot.series) statsAt(merged, key).merge(stats);
    }
    return merged;
  }

  /** Slots still inside the window ending at `nowMs`, oldest first. */
  liveSlots(nowMs: WallMs): WindowSlot[] {
    const newest = this.epochOf(nowMs);
    return this.#slots
      .filter(
        (slot): slot is WindowSlot =>
          slot !== undefined && slot.epoch > newest - slotsPerWindow && slot.epoch <= newest,
      )
      .sort((a, b) => a.epoch - b.epoch);
  }

  /** Start of the window ending at `nowMs` (the oldest slot it may include). */
  startMs(nowMs: WallMs): WallMs {
    return ((this.epochOf(nowMs) - slotsPerWindow + 1) * this.slotMs) as WallMs;
  }

  #slotFor(epoch: number): WindowSlot | undefined {
    const index = ((epoch % slotsPerWindow) + slotsPerWindow) % slotsPerWindow;
    const slot = this.#slots[index];
    if (slot !== undefined && slot.epoch === epoch) return slot;
    // A newer epoch owns this place in the ring: the record is older than the window.
    if (slot !== undefined && slot.epoch > epoch) return undefined;
    if (slot !== undefined) this.#onEvict?.(slot);
    const fresh: WindowSlot = { epoch, series: new Map(), isDirty: false };
    this.#slots[index] = fresh;
    return fresh;
  }
}
