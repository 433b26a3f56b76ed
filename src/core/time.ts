/**
 * The time port: every reading of time and every timer in RawrXD goes through a `TimePort`, so
 * the scheduler, keep-alive, deadlines, heartbeats, metrics rollups and (later) SLA windows run
 * on fake time in tests. Monotonic and wall readings have distinct types: a duration measured
 * with one and compared with the other compiles no more (the bug of the old `Clock` type).
 */

declare const monotonicBrand: unique symbol;
declare const wallBrand: unique symbol;

/** Milliseconds on a clock that never goes back, with an arbitrary origin (only differences mean anything). */
export type MonotonicMs = number & { readonly [monotonicBrand]: true };
/** Milliseconds since the Unix epoch (UTC), as `Date.now()` reads them: for timestamps and calendar rollups. */
export type WallMs = number & { readonly [wallBrand]: true };

/** A scheduled callback. `cancel()` is idempotent; `unref()` lets the process exit while it waits. */
export interface Timer {
  cancel(): void;
  /** Returns the same timer, so `time.setTimeout(...).unref()` reads as one line. */
  unref(): Timer;
}

export interface TimePort {
  /** Monotonic milliseconds: measure durations and deadlines with this. */
  monotonicNow(): MonotonicMs;
  /** Wall-clock milliseconds since the epoch: timestamps, calendar windows. */
  wallNow(): WallMs;
  /** Runs `callback` once after `delayMs` (clamped to ≥ 0). */
  setTimeout(callback: () => void, delayMs: number): Timer;
  /** Runs `callback` every `intervalMs` until cancelled. */
  setInterval(callback: () => void, intervalMs: number): Timer;
  /** Resolves after `delayMs`; rejects with the signal's reason if it aborts first. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/** `base + deltaMs` on the same clock. */
export function addMonotonic(base: MonotonicMs, deltaMs: number): MonotonicMs {
  return (base + deltaMs) as MonotonicMs;
}

/** `base + deltaMs` on the wall clock. */
export function addWall(base: WallMs, deltaMs: number): WallMs {
  return (base + deltaMs) as WallMs;
}

function wrapNodeTimer(handle: NodeJS.Timeout, clear: (handle: NodeJS.Timeout) => void): Timer {
  const timer: Timer = {
    cancel: () => clear(handle),
    unref: () => {
      handle.unref();
      return timer;
    },
  };
  return timer;
}

/** Sleep on any port: a timer plus abort handling, so fakes get it for free. */
export function sleepOn(
  time: Pick<TimePort, "setTimeout">,
  delayMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = time.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The real clocks and timers: the only place in the tree that touches them (a lint rule keeps it so). */
export const systemTime: TimePort = {
  monotonicNow: () => performance.now() as MonotonicMs,
  wallNow: () => Date.now() as WallMs,
  setTimeout: (callback, delayMs) => wrapNodeTimer(setTimeout(callback, Math.max(0, delayMs)), clearTimeout),
  setInterval: (callback, intervalMs) =>
    wrapNodeTimer(setInterval(callback, Math.max(1, intervalMs)), clearInterval),
  sleep: (delayMs, signal) => sleepOn(systemTime, delayMs, signal),
};

/**
 * Resolves once the event loop has run what native threads have already handed it (their
 * thread-safe callbacks) — not a timer: no time passes, so fake time has nothing to drive.
 */
export function afterPendingCallbacks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
