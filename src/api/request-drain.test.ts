import { describe, expect, it } from "vitest";
import { AppError, FakeTime, systemTime } from "../core/index.js";
import { RequestDrain } from "./request-drain.js";

describe("RequestDrain", () => {
  it("admits work until draining, then refuses it with a retryable shutting-down error", () => {
    const drain = new RequestDrain(new FakeTime());
    const leave = drain.enter();
    expect(drain.activeCount).toBe(1);
    drain.drain();
    let refusal: unknown;
    try {
      drain.enter();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AppError);
    expect((refusal as AppError).code).toBe("shutting-down");
    expect((refusal as AppError).retryAfterSeconds).toBe(5);
    leave();
    leave();
    expect(drain.activeCount).toBe(0);
  });

  it("whenIdle resolves true when the last request leaves, false when the time runs out", async () => {
    const time = new FakeTime();
    const drain = new RequestDrain(time);
    const first = drain.enter();
    const idle = drain.whenIdle(1000);
    time.advance(500);
    first();
    expect(await idle).toBe(true);
    drain.enter();
    const timedOut = drain.whenIdle(1000);
    time.advance(1000);
    expect(await timedOut).toBe(false);
    expect(time.pendingTimers).toBe(0);
  });

  it("stop aborts the stop signal once", () => {
    const drain = new RequestDrain(new FakeTime());
    expect(drain.stopSignal.aborted).toBe(false);
    drain.stop();
    expect(drain.stopSignal.aborted).toBe(true);
    expect(drain.isDraining).toBe(true);
  });

  it("takes any number of running requests on its stop signal without a listener-leak warning", async () => {
    const drain = new RequestDrain(new FakeTime());
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const listeners = Array.from({ length: 32 }, () => () => undefined);
      for (const listener of listeners) drain.stopSignal.addEventListener("abort", listener);
      await systemTime.sleep(1); // warnings are emitted on a later tick
      for (const listener of listeners) drain.stopSignal.removeEventListener("abort", listener);
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((warning) => warning.name)).not.toContain("MaxListenersExceededWarning");
  });
});
