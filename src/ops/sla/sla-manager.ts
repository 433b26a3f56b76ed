/**
 * SLAManager: runs the health checks every --health-interval, records the service state as
 * time intervals (the newest interval's end is the heartbeat), opens and closes incidents,
 * evaluates the burn-rate rules and sends alerts. On start it records the time since the last
 * heartbeat as `unknown`: the time the server (or its machine) was not running.
 */
import type { EventBus, Logger, ServerEvents, TimePort, Timer } from "../../core/index.js";
import type { AlertDispatch } from "./alert-dispatch.js";
import { SlaAlertRules } from "./alert-rules.js";
import { RunnerWatch, runHealthChecks, type SlaProbes } from "./health-checks.js";
import { coveredMs, monthOf, monthWindow, type TimeWindow } from "./sla-arithmetic.js";
import { measureWindow } from "./sla-report.js";
import { failingChecks, serviceStateOf, type CheckResult, type ServiceState } from "./service-state.js";
import type { SlaStore } from "./sla-store.js";
import { type Incident, type IncidentState } from "./sla-store.js";
import { slaStatusOf, type SlaStatus } from "./sla-status.js";

export interface SlaSettings {
  intervalMs: number;
  targetPercent: number;
  /** Deadline of each check; default: the interval, at most 5 s. */
  deadlineMs?: number;
}

export interface SlaManagerOptions {
  store: SlaStore;
  events: EventBus;
  logger: Logger;
  time: TimePort;
  settings: SlaSettings;
  probes: SlaProbes;
  alerts: AlertDispatch;
}

const stateRank: Record<IncidentState, number> = { degraded: 1, down: 2, unknown: 3 };

export class SlaManager {
  readonly #options: SlaManagerOptions;
  readonly #store: SlaStore;
  readonly #runners: RunnerWatch;
  readonly #rules: SlaAlertRules;
  #timer: Timer | undefined;
  #current: { id: number; state: ServiceState } | undefined;
  #startedMs = 0;
  /** A wall reading and the monotonic reading taken with it: see #nowMs. */
  #anchor = { wallMs: 0, monotonicMs: 0 };
  #lastChecks: CheckResult[] = [];
  #lastCheckedMs: number | undefined;
  #open: Incident | undefined;
  #impact = { failed: 0, rejected: 0 };
  #round: Promise<void> | undefined;
  #isClosed = false;
  #isStarted = false;
  readonly #unsubscribe: () => void;

  constructor(options: SlaManagerOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#runners = new RunnerWatch(options.events);
    this.#rules = new SlaAlertRules({
      store: options.store,
      alerts: options.alerts,
      targetPercent: options.settings.targetPercent,
    });
    this.#unsubscribe = options.events.on("request-end", (event) => this.#countImpact(event));
  }

  /** Records the gap since the last heartbeat as unknown and starts the checks. */
  start(): void {
    const { time, settings } = this.#options;
    const last = this.#store.lastInterval();
    // A wall clock stepped back across a restart: the timeline carries on from the last
    // heartbeat instead of overlapping it (the stretch would count twice in the reports).
    const now = Math.max(time.wallNow(), last?.endMs ?? 0);
    this.#startedMs = now;
    this.#anchor = { wallMs: now, monotonicMs: time.monotonicNow() };
    this.#isStarted = true;
    for (const stale of this.#store.openIncidents())
      this.#store.updateIncident(stale.id, { ...stale, endMs: Math.max(stale.startMs, last?.endMs ?? now) });
    if (last !== undefined && now > last.endMs) {
      this.#store.appendInterval({ startMs: last.endMs, endMs: now, state: "unknown" });
      this.#recordGap({ startMs: last.endMs, endMs: now });
    }
    this.#timer = time.setInterval(() => void this.runRound(), settings.intervalMs).unref();
    void this.runRound();
  }

  /**
   * The time the server was not running, found at start: a closed incident and one resolved
   * alert, unless declared maintenance covers all of it (a planned restart): then only a log
   * line, as the report leaves that time out of the SLA anyway.
   */
  #recordGap(gap: TimeWindow): void {
    const { logger, events, alerts } = this.#options;
    const gapMs = gap.endMs - gap.startMs;
    // Whole milliseconds: the heartbeat carries monotonic fractions nobody wants in an alert.
    const seconds = Math.round(gapMs) / 1000;
    if (coveredMs(gap, this.#store.maintenanceOverlapping(gap)) >= gapMs) {
      logger.info("SLA: the server was not running, inside declared maintenance; no incident", { seconds });
      return;
    }
    const cause = ["no heartbeat: the server (or its machine) was not running"];
    const id = this.#store.addClosedIncident({ ...gap, worstState: "unknown", cause });
    events.emit("sla-incident", { id, action: "closed", worstState: "unknown", cause, ...gap });
    // Found only now, already over: one alert, sent as resolved.
    alerts.send({
      alert: `incident:${id}`,
      severity: "warning",
      state: "resolved",
      summary: `incident ${id}: no heartbeat for ${seconds} s (server or machine not running), recorded as unknown`,
      atMs: gap.endMs,
      details: { incident: id, unknownSeconds: seconds },
    });
    logger.warn("SLA: no heartbeat while the server was not running; recorded as unknown", { seconds });
  }

  /** One round of checks and bookkeeping (the timer calls it; tests may too). */
  runRound(): Promise<void> {
    if (this.#round !== undefined || this.#isClosed) return this.#round ?? Promise.resolve();
    const { settings, time, probes } = this.#options;
    const deadlineMs = settings.deadlineMs ?? Math.min(5_000, settings.intervalMs);
    this.#round = runHealthChecks({ probes, runners: this.#runners, time, deadlineMs })
      .then((results) => {
        if (!this.#isClosed) this.#record(results);
      })
      .catch((error: unknown) => this.#options.logger.error("SLA round failed", { error: String(error) }))
      .finally(() => (this.#round = undefined));
    return this.#round;
  }

  /**
   * The time of a reading while running: a wall anchor plus monotonic time since, so a step of
   * the wall clock back (NTP, a hand-set date) neither shrinks nor reorders intervals, incidents
   * or the uptime. A wall clock ahead of it by more than 3 intervals cannot be told from a
   * machine that slept (Linux's monotonic clock stops in suspend): the round re-anchors and the
   * gap becomes `unknown`, never `up`. See docs/decisions/0025-faults-and-clock-steps.md.
   */
  #nowMs(): number {
    return this.#anchor.wallMs + (this.#options.time.monotonicNow() - this.#anchor.monotonicMs);
  }

  #record(results: CheckResult[]): void {
    const { settings, events, time } = this.#options;
    const wallNow = time.wallNow();
    if (wallNow - this.#nowMs() > 3 * settings.intervalMs)
      this.#anchor = { wallMs: wallNow, monotonicMs: time.monotonicNow() };
    const now = this.#nowMs();
    const state = serviceStateOf(results);
    this.#lastChecks = results;
    this.#lastCheckedMs = now;
    const current = this.#current;
    const last = this.#store.lastInterval();
    // The loop stalled or the machine slept: what the checks did not see is unknown.
    const stalled = last !== undefined && current !== undefined && now - last.endMs > 3 * settings.intervalMs;
    if (current !== undefined && current.state === state && !stalled) {
      this.#store.extendInterval(current.id, now);
    } else {
      const startMs = current === undefined ? this.#startedMs : now;
      if (stalled) this.#store.appendInterval({ startMs: last.endMs, endMs: now, state: "unknown" });
      else if (current !== undefined) this.#store.extendInterval(current.id, now);
      const failing = failingChecks(results);
      this.#current = { id: this.#store.appendInterval({ startMs, endMs: now, state }, failing), state };
      if (current?.state !== state)
        events.emit("sla-state", {
          state,
          previous: current?.state ?? "unknown",
          checks: results
            .filter((result) => result.status !== "pass")
            .map(({ name, status, reason }) => ({ name, status, reason })),
          atMs: now,
        });
    }
    this.#trackIncident(state, results, now);
    this.#rules.evaluate(results, now);
  }

  #trackIncident(state: ServiceState, results: CheckResult[], now: number): void {
    const { events, alerts } = this.#options;
    const open = this.#open;
    if (state !== "up") {
      const cause = failingChecks(results);
      if (open === undefined) {
        const startMs = now;
        const id = this.#store.openIncident({ startMs, worstState: state, cause });
        this.#impact = { failed: 0, rejected: 0 };
        this.#open = {
          id,
          startMs,
          endMs: undefined,
          worstState: state,
          cause,
          requestsFailed: 0,
          requestsRejected: 0,
        };
        events.emit("sla-incident", {
          id,
          action: "opened",
          worstState: state,
          cause,
          startMs,
          endMs: undefined,
        });
        alerts.send({
          alert: `incident:${id}`,
          severity: state === "down" ? "page" : "warning",
          state: "firing",
          summary: `incident ${id}: service ${state} (${cause.join("; ")})`,
          atMs: now,
          details: { incident: id, serviceState: state, cause },
        });
      } else {
        if (stateRank[state] > stateRank[open.worstState]) open.worstState = state;
        open.cause = [...new Set([...open.cause, ...cause])];
        this.#saveIncident(open);
      }
      return;
    }
    if (open === undefined) return;
    open.endMs = now;
    this.#saveIncident(open);
    this.#open = undefined;
    events.emit("sla-incident", { ...open, action: "closed" });
    alerts.send({
      alert: `incident:${open.id}`,
      severity: open.worstState === "down" ? "page" : "warning",
      state: "resolved",
      summary: `incident ${open.id} closed after ${(now - open.startMs) / 1000} s`,
      atMs: now,
      details: { incident: open.id, durationSeconds: (now - open.startMs) / 1000 },
    });
  }

  #saveIncident(incident: Incident): void {
    incident.requestsFailed = this.#impact.failed;
    incident.requestsRejected = this.#impact.rejected;
    this.#store.updateIncident(incident.id, incident);
  }

  #countImpact(event: ServerEvents["request-end"]): void {
    // The probe's own requests are the checks, not the impact.
    if (this.#open === undefined || event.apiKeyId === "sla-probe") return;
    if (event.outcome === "error") this.#impact.failed += 1;
    else if (event.outcome === "rejected") this.#impact.rejected += 1;
  }

  /** "Now" on the SLA's timeline (see #nowMs): what reports of the running server measure up to. */
  timelineNowMs(): number {
    return this.#isStarted ? this.#nowMs() : this.#options.time.wallNow();
  }

  /** The live status: state, checks, open incident and this month's budget. */
  status(): SlaStatus {
    const { settings } = this.#options;
    const now = this.timelineNowMs();
    const month = monthOf(now);
    const measured = measureWindow(this.#store, monthWindow(month)!, {
      targetPercent: settings.targetPercent,
      nowMs: now,
    });
    return slaStatusOf({
      store: this.#store,
      nowMs: now,
      month,
      measured,
      state: this.#current?.state,
      checks: this.#lastChecks,
      checkedAtMs: this.#lastCheckedMs,
      openIncident: this.#open,
      settings,
      firingAlerts: this.#rules.firing,
    });
  }

  /** Final heartbeat, then stop; idempotent. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#timer?.cancel();
    await this.#round;
    this.#isClosed = true;
    this.#unsubscribe();
    this.#runners.close();
    if (this.#current !== undefined) this.#store.extendInterval(this.#current.id, this.#nowMs());
    if (this.#open !== undefined) this.#saveIncident(this.#open);
    this.#options.alerts.close();
  }
}
