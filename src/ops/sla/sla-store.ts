/**
 * The SLA tables in rawrxd.db (migration 3): state intervals (the newest one's end is the
 * heartbeat), incidents, declared maintenance windows and alert deliveries. Synchronous
 * better-sqlite3 calls: a handful of small writes per health interval.
 */
import type { Database } from "../../store/index.js";
import type { ObservedState, StateInterval, TimeWindow } from "./sla-arithmetic.js";

export interface StoredInterval extends StateInterval {
  id: number;
}

export type IncidentState = "degraded" | "down" | "unknown";

export interface Incident {
  id: number;
  startMs: number;
  /** Undefined while open. */
  endMs: number | undefined;
  worstState: IncidentState;
  /** The failing checks and their reasons. */
  cause: string[];
  requestsFailed: number;
  requestsRejected: number;
}

export interface MaintenanceWindow extends TimeWindow {
  id: number;
  reason: string;
  createdMs: number;
}

export interface AlertDelivery {
  id: number;
  createdMs: number;
  alert: string;
  severity: string;
  sink: string;
  outcome: "pending" | "delivered" | "failed" | "dropped";
  attempts: number;
  lastError: string | undefined;
  doneMs: number | undefined;
}

interface IncidentRow {
  id: number;
  start_ms: number;
  end_ms: number | null;
  worst_state: IncidentState;
  cause: string;
  requests_failed: number;
  requests_rejected: number;
}

const incidentOf = (row: IncidentRow): Incident => ({
  id: row.id,
  startMs: row.start_ms,
  endMs: row.end_ms ?? undefined,
  worstState: row.worst_state,
  cause: JSON.parse(row.cause) as string[],
  requestsFailed: row.requests_failed,
  requestsRejected: row.requests_rejected,
});

export class SlaStore {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  get #db() {
    return this.#database.connection;
  }

  lastInterval(): StoredInterval | undefined {
    const row = this.#db
      .prepare("SELECT id, start_ms, end_ms, state FROM sla_intervals ORDER BY id DESC LIMIT 1")
      .get() as { id: number; start_ms: number; end_ms: number; state: ObservedState } | undefined;
    return row === undefined
      ? undefined
      : { id: row.id, startMs: row.start_ms, endMs: row.end_ms, state: row.state };
  }

  /** When monitoring first started: the oldest interval's start. */
  monitoringStartMs(): number | undefined {
    const row = this.#db.prepare("SELECT MIN(start_ms) AS start FROM sla_intervals").get() as {
      start: number | null;
    };
    return row.start ?? undefined;
  }

  appendInterval(interval: StateInterval, checks?: readonly string[]): number {
    return Number(
      this.#db
        .prepare("INSERT INTO sla_intervals (start_ms, end_ms, state, checks) VALUES (?, ?, ?, ?)")
        .run(
          interval.startMs,
          interval.endMs,
          interval.state,
          checks === undefined ? null : JSON.stringify(checks),
        ).lastInsertRowid,
    );
  }

  /** Moves an interval's end: the heartbeat. */
  extendInterval(id: number, endMs: number): void {
    this.#db.prepare("UPDATE sla_intervals SET end_ms = ? WHERE id = ?").run(endMs, id);
  }

  intervalsOverlapping(window: TimeWindow): StateInterval[] {
    const rows = this.#db
      .prepare(
        "SELECT start_ms, end_ms, state FROM sla_intervals WHERE end_ms > ? AND start_ms < ? ORDER BY start_ms",
      )
      .all(window.startMs, window.endMs) as { start_ms: number; end_ms: number; state: ObservedState }[];
    return rows.map((row) => ({ startMs: row.start_ms, endMs: row.end_ms, state: row.state }));
  }

  addMaintenance(window: { startMs: number; endMs: number; reason: string; createdMs: number }): number {
    return Number(
      this.#db
        .prepare("INSERT INTO sla_maintenance (start_ms, end_ms, reason, created_ms) VALUES (?, ?, ?, ?)")
        .run(window.startMs, window.endMs, window.reason, window.createdMs).lastInsertRowid,
    );
  }

  maintenanceOverlapping(window: TimeWindow): MaintenanceWindow[] {
    const rows = this.#db
      .prepare(
        "SELECT id, start_ms, end_ms, reason, created_ms FROM sla_maintenance WHERE end_ms > ? AND start_ms < ? ORDER BY start_ms",
      )
      .all(window.startMs, window.endMs) as {
      id: number;
      start_ms: number;
      end_ms: number;
      reason: string;
      created_ms: number;
    }[];
    return rows.map((row) => ({
      id: row.id,
      startMs: row.start_ms,
      endMs: row.end_ms,
      reason: row.reason,
      createdMs: row.created_ms,
    }));
  }

  openIncident(incident: { startMs: number; worstState: IncidentState; cause: readonly string[] }): number {
    return Number(
      this.#db
        .prepare("INSERT INTO sla_incidents (start_ms, worst_state, cause) VALUES (?, ?, ?)")
        .run(incident.startMs, incident.worstState, JSON.stringify(incident.cause)).lastInsertRowid,
    );
  }

  /** Records a closed incident in one write (a gap found at start). */
  addClosedIncident(incident: {
    startMs: number;
    endMs: number;
    worstState: IncidentState;
    cause: readonly string[];
  }): number {
    return Number(
      this.#db
        .prepare("INSERT INTO sla_incidents (start_ms, end_ms, worst_state, cause) VALUES (?, ?, ?, ?)")
        .run(incident.startMs, incident.endMs, incident.worstState, JSON.stringify(incident.cause))
        .lastInsertRowid,
    );
  }

  updateIncident(
    id: number,
    update: {
      worstState: IncidentState;
      cause: readonly string[];
      requestsFailed: number;
      requestsRejected: number;
      endMs?: number;
    },
  ): void {
    this.#db
      .prepare(
        "UPDATE sla_incidents SET worst_state = ?, cause = ?, requests_failed = ?, requests_rejected = ?, end_ms = ? WHERE id = ?",
      )
      .run(
        update.worstState,
        JSON.stringify(update.cause),
        update.requestsFailed,
        update.requestsRejected,
        update.endMs ?? null,
        id,
      );
  }

  openIncidents(): Incident[] {
    return (
      this.#db.prepare("SELECT * FROM sla_incidents WHERE end_ms IS NULL ORDER BY id").all() as IncidentRow[]
    ).map(incidentOf);
  }

  /** Newest first. */
  incidents(page: { limit: number; offset: number }): { total: number; incidents: Incident[] } {
    const total = (this.#db.prepare("SELECT COUNT(*) AS n FROM sla_incidents").get() as { n: number }).n;
    const rows = this.#db
      .prepare("SELECT * FROM sla_incidents ORDER BY start_ms DESC, id DESC LIMIT ? OFFSET ?")
      .all(page.limit, page.offset) as IncidentRow[];
    return { total, incidents: rows.map(incidentOf) };
  }

  /** Incidents overlapping the window (open ones count as lasting until `nowMs`). */
  incidentsOverlapping(window: TimeWindow, nowMs: number): Incident[] {
    const rows = this.#db
      .prepare(
        "SELECT * FROM sla_incidents WHERE COALESCE(end_ms, ?) > ? AND start_ms < ? ORDER BY start_ms, id",
      )
      .all(nowMs, window.startMs, window.endMs) as IncidentRow[];
    return rows.map(incidentOf);
  }

  addDelivery(delivery: {
    createdMs: number;
    alert: string;
    severity: string;
    sink: string;
    body: string;
  }): number {
    return Number(
      this.#db
        .prepare(
          "INSERT INTO sla_alert_deliveries (created_ms, alert, severity, sink, outcome, body) VALUES (?, ?, ?, ?, 'pending', ?)",
        )
        .run(delivery.createdMs, delivery.alert, delivery.severity, delivery.sink, delivery.body)
        .lastInsertRowid,
    );
  }

  updateDelivery(
    id: number,
    update: {
      outcome: AlertDelivery["outcome"];
      attempts: number;
      lastError?: string | undefined;
      doneMs?: number | undefined;
    },
  ): void {
    this.#db
      .prepare(
        "UPDATE sla_alert_deliveries SET outcome = ?, attempts = ?, last_error = ?, done_ms = ? WHERE id = ?",
      )
      .run(update.outcome, update.attempts, update.lastError ?? null, update.doneMs ?? null, id);
  }

  deliveries(limit: number): AlertDelivery[] {
    const rows = this.#db
      .prepare("SELECT * FROM sla_alert_deliveries ORDER BY id DESC LIMIT ?")
      .all(limit) as {
      id: number;
      created_ms: number;
      alert: string;
      severity: string;
      sink: string;
      outcome: AlertDelivery["outcome"];
      attempts: number;
      last_error: string | null;
      done_ms: number | null;
    }[];
    return rows.map((row) => ({
      id: row.id,
      createdMs: row.created_ms,
      alert: row.alert,
      severity: row.severity,
      sink: row.sink,
      outcome: row.outcome,
      attempts: row.attempts,
      lastError: row.last_error ?? undefined,
      doneMs: row.done_ms ?? undefined,
    }));
  }
}
