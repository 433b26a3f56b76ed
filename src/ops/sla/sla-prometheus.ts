/**
 * The SLA figures on /metrics: gauges read from the live status when scraped, registered into
 * the metrics collector's registry (src/app passes it in).
 */
import { Gauge, type Registry } from "prom-client";
import type { SlaStatus } from "./sla-status.js";

const states = ["up", "degraded", "down", "maintenance", "starting"] as const;

export function registerSlaMetrics(registry: Registry, status: () => SlaStatus): void {
  let cached: { status: SlaStatus; atScrape: number } | undefined;
  let scrape = 0;
  // One status per scrape: each gauge's collect() runs in the same scrape.
  const read = (): SlaStatus => {
    if (cached === undefined || cached.atScrape !== scrape) cached = { status: status(), atScrape: scrape };
    return cached.status;
  };
  const registers = [registry];
  new Gauge({
    name: "rawrxd_sla_state",
    help: "Service state from the health checks: 1 for the current state, 0 for the others.",
    labelNames: ["state"],
    registers,
    collect() {
      scrape += 1;
      const now = read();
      for (const state of states) this.set({ state }, now.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: "rawrxd_sla_availability_ratio",
    help: "This month's availability (0-1): observed (unknown left out) and conservative (unknown as down).",
    labelNames: ["figure"],
    registers,
    collect() {
      const now = read();
      this.reset();
      if (now.availability.observed !== null) this.set({ figure: "observed" }, now.availability.observed);
      if (now.availability.conservative !== null)
        this.set({ figure: "conservative" }, now.availability.conservative);
    },
  });
  new Gauge({
    name: "rawrxd_sla_coverage_ratio",
    help: "Share of this month's measured time the health checks observed (0-1).",
    registers,
    collect() {
      const coverage = read().coverage;
      if (coverage !== null) this.set(coverage);
    },
  });
  new Gauge({
    name: "rawrxd_sla_error_budget_remaining_seconds",
    help: "Downtime this month's budget still allows at the SLA target (negative once spent).",
    registers,
    collect() {
      this.set(read().budget.remainingSeconds);
    },
  });
  new Gauge({
    name: "rawrxd_sla_burn_rate",
    help: "Error-budget burn rate over the window (1 = spending exactly the budget).",
    labelNames: ["window"],
    registers,
    collect() {
      this.reset();
      for (const [window, rate] of Object.entries(read().burnRates))
        if (rate !== null) this.set({ window }, rate);
    },
  });
}
