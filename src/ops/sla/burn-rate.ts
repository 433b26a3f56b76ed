/**
 * Multi-window, multi-burn-rate alerting (Google SRE Workbook, "Alerting on SLOs"): a rule
 * fires when the error budget burns at least `factor` times the sustainable rate over both its
 * long window (enough budget is at stake) and its short window (it is still happening), and
 * clears when either drops below. Burn rate = bad fraction ÷ (1 − target).
 */

export interface BurnRateRule {
  name: string;
  severity: "page" | "ticket";
  longWindowMs: number;
  shortWindowMs: number;
  factor: number;
}

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;

/** The Workbook's starting set for a 30-day budget: 2 %, 5 % and 10 % of it spent. */
export const burnRateRules: readonly BurnRateRule[] = [
  { name: "page-1h", severity: "page", longWindowMs: hourMs, shortWindowMs: 5 * minuteMs, factor: 14.4 },
  { name: "page-6h", severity: "page", longWindowMs: 6 * hourMs, shortWindowMs: 30 * minuteMs, factor: 6 },
  { name: "ticket-3d", severity: "ticket", longWindowMs: 72 * hourMs, shortWindowMs: 6 * hourMs, factor: 1 },
];

/** The windows whose burn rate is worth reporting (status, /metrics). */
export const reportedBurnWindows = [
  { label: "5m", windowMs: 5 * minuteMs },
  { label: "1h", windowMs: hourMs },
  { label: "6h", windowMs: 6 * hourMs },
  { label: "3d", windowMs: 72 * hourMs },
] as const;

export interface BurnRateReading {
  rule: BurnRateRule;
  longBurnRate: number;
  shortBurnRate: number;
  isBreached: boolean;
}

/** Reads every rule; `badFraction(windowMs)` is the bad fraction over the last `windowMs`. */
export function readBurnRates(
  badFraction: (windowMs: number) => number,
  targetPercent: number,
  rules: readonly BurnRateRule[] = burnRateRules,
): BurnRateReading[] {
  const allowance = 1 - targetPercent / 100;
  const burn = (windowMs: number): number =>
    allowance > 0 ? badFraction(windowMs) / allowance : badFraction(windowMs) > 0 ? Infinity : 0;
  return rules.map((rule) => {
    const longBurnRate = burn(rule.longWindowMs);
    const shortBurnRate = burn(rule.shortWindowMs);
    // A small tolerance: 51.84 s of a 3600 s window is exactly 14.4× at 99.9 %.
    const isBreached = longBurnRate >= rule.factor - 1e-9 && shortBurnRate >= rule.factor - 1e-9;
    return { rule, longBurnRate, shortBurnRate, isBreached };
  });
}

export interface BurnRateTransition {
  reading: BurnRateReading;
  state: "firing" | "resolved";
}

/** Remembers which rules fire, so each alert starts and resolves once (no repeat per check). */
export class BurnRateAlertState {
  readonly #firing = new Set<string>();

  update(readings: readonly BurnRateReading[]): BurnRateTransition[] {
    const transitions: BurnRateTransition[] = [];
    for (const reading of readings) {
      const wasFiring = this.#firing.has(reading.rule.name);
      if (reading.isBreached && !wasFiring) {
        this.#firing.add(reading.rule.name);
        transitions.push({ reading, state: "firing" });
      } else if (!reading.isBreached && wasFiring) {
        this.#firing.delete(reading.rule.name);
        transitions.push({ reading, state: "resolved" });
      }
    }
    return transitions;
  }

  get firing(): string[] {
    return [...this.#firing];
  }
}
