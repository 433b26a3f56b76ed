/** Clock port so schedulers and timers can be driven by fake time in tests. */
export interface Clock {
  /** Milliseconds, monotonic within a process. */
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };
