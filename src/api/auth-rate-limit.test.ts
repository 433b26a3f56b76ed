import { describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { AuthRateLimiter } from "./auth-rate-limit.js";

describe("AuthRateLimiter", () => {
  it("refuses an address after maxFailures in its window, until the window ends", () => {
    const time = new FakeTime();
    const limiter = new AuthRateLimiter({ maxFailures: 3, windowMs: 60_000, time });
    for (let failure = 0; failure < 3; failure++) {
      expect(limiter.retryAfterSeconds("10.0.0.1")).toBeUndefined();
      limiter.recordFailure("10.0.0.1");
    }
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBe(60);
    expect(limiter.retryAfterSeconds("10.0.0.2")).toBeUndefined();
    time.advance(59_500);
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBe(1);
    time.advance(500);
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBeUndefined();
    limiter.recordFailure("10.0.0.1");
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBeUndefined();
  });

  it("0 means no limit", () => {
    const limiter = new AuthRateLimiter({ maxFailures: 0, windowMs: 60_000, time: new FakeTime() });
    for (let failure = 0; failure < 100; failure++) limiter.recordFailure("10.0.0.1");
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBeUndefined();
  });
});
