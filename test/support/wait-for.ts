/**
 * Waiting on a real server in tests, on the time port's system clock: poll a condition until it
 * holds. (Tests of pure timing logic use FakeTime and `advanceUntil` instead.)
 */
import { systemTime } from "../../src/core/index.js";

const pollIntervalMs = 5;

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return systemTime.sleep(ms);
}

/**
 * Polls `probe` (sync or async) until it returns a value other than `false` or `undefined`, and
 * returns that value; throws with `what` after `timeoutMs`.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 2000,
): Promise<Exclude<T, false | undefined>> {
  const deadline = systemTime.monotonicNow() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== false && value !== undefined) return value as Exclude<T, false | undefined>;
    if (systemTime.monotonicNow() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollIntervalMs);
  }
}
