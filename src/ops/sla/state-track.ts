/**
 * One watched thing's SLA timeline in memory (the cluster, or one node as the adverts show it):
 * merged state intervals, a gap longer than 3 intervals recorded as `unknown`, and incidents
 * opened when the state leaves `up` and closed when it returns, with the same shapes and
 * arithmetic as the node's own SlaManager (tallyStates, availabilityOf).
 */
import { availabilityOf, tallyStates, type Availability, type StateInterval } from "./sla-arithmetic.js";
import type { ServiceState } from "./service-state.js";
import type { Incident, IncidentState } from "./sla-store.js";

export interface Transition {
  state: ServiceState;
  previous: ServiceState | "unknown";
  reasons: string[];
}

export interface IncidentChange {
  action: "opened" | "closed";
  incident: Incident;
}

const rank: Record<IncidentState, number> = { degraded: 1, down: 2, unknown: 3 };
/** Intervals kept per track: transitions only, so this is a long history. */
const maxIntervals = 2000;

export class StateTrack {
  readonly #intervals: StateInterval[] = [];
  #state: ServiceState | undefined;
  #reasons: string[] = [];
  #open: Incident | undefined;
  #monitoringStartMs: number | undefined;

  constructor(
    readonly scope: string,
    readonly nextIncidentId: () => number,
  ) {}

  get state(): ServiceState | undefined {
    return this.#state;
  }

  get reasons(): string[] {
    return this.#reasons;
  }

  get openIncident(): Incident | undefined {
    return this.#open;
  }

  /** Records one observation; returns the transition and incident changes it caused. */
  record(observation: { state: ServiceState; reasons: string[]; nowMs: number; intervalMs: number }): {
    transition?: Transition;
    incidents: IncidentChange[];
  } {
    const { state, reasons, nowMs, intervalMs } = observation;
    const last = this.#intervals.at(-1);
    const now = Math.max(nowMs, last?.endMs ?? nowMs);
    const previous = this.#state;
    this.#monitoringStartMs ??= now;
    if (last !== undefined && now - last.endMs > 3 * intervalMs) {
      this.#push({ startMs: last.endMs, endMs: now, state: "unknown" });
    } else if (last !== undefined) last.endMs = now;
    const tail = this.#intervals.at(-1);
    if (tail !== undefined && tail.state === state) tail.endMs = now;
    else this.#push({ startMs: now, endMs: now, state });
    this.#state = state;
    this.#reasons = reasons;
    const incidents = this.#trackIncident(state, reasons, now);
    if (previous === state) return { incidents };
    const transition: Transition = { state, previous: previous ?? "unknown", reasons };
    return { transition, incidents };
  }

  /** Stops watching (a node forgotten): an open incident closes now with the reason added. */
  close(nowMs: number, reason: string): IncidentChange[] {
    const open = this.#open;
    if (open === undefined) return [];
    open.cause = [...new Set([...open.cause, reason])];
    open.endMs = Math.max(open.startMs, nowMs);
    this.#open = undefined;
    return [{ action: "closed", incident: { ...open, cause: [...open.cause] } }];
  }

  /** Availability since this node started watching (null figures with nothing measured). */
  availability(nowMs: number): Availability & { sinceMs: number | undefined } {
    const start = this.#monitoringStartMs;
    const end = Math.max(nowMs, this.#intervals.at(-1)?.endMs ?? nowMs);
    const tally = tallyStates({
      intervals: this.#intervals,
      maintenance: [],
      window: { startMs: start ?? end, endMs: end },
      monitoringStartMs: start,
      nowMs: end,
    });
    return { ...availabilityOf(tally), sinceMs: start };
  }

  #push(interval: StateInterval): void {
    this.#intervals.push(interval);
    if (this.#intervals.length > maxIntervals) {
      this.#intervals.shift();
      this.#monitoringStartMs = this.#intervals[0]!.startMs;
    }
  }

  #trackIncident(state: ServiceState, reasons: string[], now: number): IncidentChange[] {
    const open = this.#open;
    if (state !== "up") {
      if (open === undefined) {
        const incident: Incident = {
          id: this.nextIncidentId(),
          startMs: now,
          endMs: undefined,
          worstState: state,
          cause: [...reasons],
          requestsFailed: 0,
          requestsRejected: 0,
        };
        this.#open = incident;
        return [{ action: "opened", incident: { ...incident, cause: [...incident.cause] } }];
      }
      if (rank[state] > rank[open.worstState]) open.worstState = state;
      open.cause = [...new Set([...open.cause, ...reasons])];
      return [];
    }
    if (open === undefined) return [];
    open.endMs = now;
    this.#open = undefined;
    return [{ action: "closed", incident: { ...open, cause: [...open.cause] } }];
  }
}
