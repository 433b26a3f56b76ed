/**
 * Checks and the rule that turns their results into the service state:
 *  - down:     the HTTP front fails, or there are model checks and every one of them fails
 *              (no loaded model can serve);
 *  - degraded: any other check fails or warns (one model failing, the probe past its deadline
 *              under load, low disk, event-loop lag, audit or backup trouble);
 *  - up:       every check passes.
 */

export type CheckStatus = "pass" | "warn" | "fail";
/** `runner` and `probe` are model checks: they count toward "every model failing". */
export type CheckKind = "front" | "runner" | "probe" | "disk" | "event-loop" | "audit" | "backup";

export interface CheckResult {
  /** Stable name: `front`, `runner:alpha`, `probe:alpha`, `disk`, `event-loop`, `audit`, `backup`. */
  name: string;
  kind: CheckKind;
  status: CheckStatus;
  /** Why it warns or fails (empty when it passes). */
  reason: string;
  /** How long the check took. */
  ms: number;
}

export type ServiceState = "up" | "degraded" | "down";

export function serviceStateOf(results: readonly CheckResult[]): ServiceState {
  const front = results.filter((result) => result.kind === "front");
  if (front.some((result) => result.status === "fail")) return "down";
  const models = results.filter((result) => result.kind === "runner" || result.kind === "probe");
  if (models.length > 0 && models.every((result) => result.status === "fail")) return "down";
  return results.some((result) => result.status !== "pass") ? "degraded" : "up";
}

/** The checks that do not pass, as "name: reason" (an incident's cause). */
export function failingChecks(results: readonly CheckResult[]): string[] {
  return results
    .filter((result) => result.status !== "pass")
    .map((result) => `${result.name} (${result.status}): ${result.reason}`);
}
