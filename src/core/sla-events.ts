/**
 * The SLA monitor's events (issue #13): the service state as the health checks see it, incidents
 * opening and closing, and alerts (burn rate, incidents, backups, the audit log). The shell and
 * any other subscriber read them; ops/sla emits them.
 */

export interface SlaEvents {
  /** The service state changed (`up`, `degraded`, `down`); `checks` are those not passing. */
  "sla-state": {
    state: "up" | "degraded" | "down";
    previous: "up" | "degraded" | "down" | "unknown";
    checks: { name: string; status: "pass" | "warn" | "fail"; reason: string }[];
    atMs: number;
  };
  /** An incident opened (state left `up`) or closed (back to `up`). */
  "sla-incident": {
    id: number;
    action: "opened" | "closed";
    worstState: "degraded" | "down" | "unknown";
    cause: string[];
    startMs: number;
    endMs: number | undefined;
  };
  /** An alert started (`firing`) or ended (`resolved`); one-shot alerts only fire. */
  "sla-alert": {
    /** Stable id: `burn-rate:page-1h`, `incident:12`, `backup`, `audit`. */
    alert: string;
    severity: "page" | "ticket" | "warning" | "info";
    state: "firing" | "resolved";
    summary: string;
    atMs: number;
    details: Record<string, unknown>;
  };
}
