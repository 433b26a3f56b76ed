/** How long the PostgreSQL witness waits before its next attempt: capped exponential backoff. */
export interface RetryPolicy {
  /** Wait after the first failure. */
  initialMs: number;
  /** The longest wait. */
  maxMs: number;
  /** Each further failure multiplies the wait by this. */
  factor: number;
}

/** The wait after `failures` failed attempts in a row (1 = the first failure). */
export function retryDelayMs(failures: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, failures - 1);
  return Math.min(policy.maxMs, Math.round(policy.initialMs * policy.factor ** exponent));
}
