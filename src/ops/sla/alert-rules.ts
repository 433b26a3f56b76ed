/**
 * The alert rules run after each round of checks: the multi-window burn-rate rules over the
 * stored intervals, and the audit and backup checks (once when trouble starts, once when it
 * clears). Incident alerts are sent by SlaManager as incidents open and close.
 */
import type { AlertDispatch } from "./alert-dispatch.js";
import { BurnRateAlertState, readBurnRates, reportedBurnWindows } from "./burn-rate.js";
import { badFractionOver } from "./sla-arithmetic.js";
import type { CheckResult } from "./service-state.js";
import type { SlaStore } from "./sla-store.js";

export class SlaAlertRules {
  readonly #options: { store: SlaStore; alerts: AlertDispatch; targetPercent: number };
  readonly #burn = new BurnRateAlertState();
  readonly #checkAlerts = new Map<string, string>();

  constructor(options: { store: SlaStore; alerts: AlertDispatch; targetPercent: number }) {
    this.#options = options;
  }

  /** Burn-rate rules firing now. */
  get firing(): string[] {
    return this.#burn.firing;
  }

  /** After each round: burn-rate rules, then the audit and backup checks' transitions. */
  evaluate(results: readonly CheckResult[], now: number): void {
    const { targetPercent, alerts } = this.#options;
    const span = { startMs: now - reportedBurnWindows[3].windowMs, endMs: now };
    const input = {
      intervals: this.#options.store.intervalsOverlapping(span),
      maintenance: this.#options.store.maintenanceOverlapping(span),
      monitoringStartMs: this.#options.store.monitoringStartMs(),
      nowMs: now,
    };
    const readings = readBurnRates((windowMs) => badFractionOver(input, windowMs), targetPercent);
    for (const { reading, state } of this.#burn.update(readings))
      alerts.send({
        alert: `burn-rate:${reading.rule.name}`,
        severity: reading.rule.severity,
        state,
        summary: `error budget burning at ${reading.longBurnRate.toFixed(1)}× over ${reading.rule.longWindowMs / 60_000} min and ${reading.shortBurnRate.toFixed(1)}× over ${reading.rule.shortWindowMs / 60_000} min (threshold ${reading.rule.factor}×, target ${targetPercent} %)`,
        atMs: now,
        details: {
          rule: reading.rule.name,
          longBurnRate: reading.longBurnRate,
          shortBurnRate: reading.shortBurnRate,
          factor: reading.rule.factor,
        },
      });
    // Backup missed or failed, audit write failure: once when it starts, once when it clears.
    for (const result of results.filter((check) => check.kind === "audit" || check.kind === "backup")) {
      const before = this.#checkAlerts.get(result.name) ?? "pass";
      if (before === result.status) continue;
      this.#checkAlerts.set(result.name, result.status);
      const severity = result.kind === "audit" && result.status === "fail" ? "page" : "ticket";
      alerts.send({
        alert: result.name,
        severity,
        state: result.status === "pass" ? "resolved" : "firing",
        summary: result.status === "pass" ? `${result.name} healthy again` : result.reason,
        atMs: now,
        details: { check: result.name, status: result.status },
      });
    }
  }
}
