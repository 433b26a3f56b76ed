import { describe, expect, it } from "vitest";
import { EventBus, FakeTime } from "../../core/index.js";
import { RunnerWatch, runHealthChecks } from "./health-checks.js";
import { serviceStateOf } from "./service-state.js";

const hang = (signal: AbortSignal): Promise<void> =>
  new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));

describe("health checks", () => {
  it("fails a hung front check at its deadline, not later (down)", async () => {
    const time = new FakeTime();
    let settled = false;
    const round = runHealthChecks({
      probes: { front: hang },
      runners: undefined,
      time,
      deadlineMs: 2_000,
    }).then((results) => ((settled = true), results));
    await time.advanceAsync(1_999);
    expect(settled).toBe(false);
    await time.advanceAsync(1);
    const results = await round;
    expect(results).toEqual([
      { name: "front", kind: "front", status: "fail", reason: "no answer within 2000 ms", ms: 2_000 },
    ]);
    expect(serviceStateOf(results)).toBe("down");
  });

  it("counts a probe past its deadline as a warning (degraded), a probe error as a failure", async () => {
    const time = new FakeTime();
    const slow = runHealthChecks({
      probes: { front: () => Promise.resolve(), probe: { model: "alpha", generate: hang } },
      runners: undefined,
      time,
      deadlineMs: 1_000,
    });
    await time.advanceAsync(1_000);
    const results = await slow;
    expect(results.find((result) => result.name === "probe:alpha")?.status).toBe("warn");
    expect(serviceStateOf(results)).toBe("degraded");
    const failing = await runHealthChecks({
      probes: { probe: { model: "alpha", generate: () => Promise.reject(new Error("runner crashed")) } },
      runners: undefined,
      time,
      deadlineMs: 1_000,
    });
    expect(failing).toMatchObject([{ name: "probe:alpha", status: "fail", reason: "runner crashed" }]);
  });

  it("fails the runner check of a model whose runner crashed since the last round, once", async () => {
    const time = new FakeTime();
    const events = new EventBus();
    const runners = new RunnerWatch(events);
    const probes = {
      loadedModels: () => [
        { model: "alpha", pid: 11 },
        { model: "beta", pid: 12 },
      ],
      isProcessAlive: (pid: number) => pid !== 12,
    };
    events.emit("runner-crashed", { model: "alpha", pid: 11, detail: "exit code 139" });
    const first = await runHealthChecks({ probes, runners, time, deadlineMs: 1_000 });
    expect(first).toMatchObject([
      { name: "runner:alpha", status: "fail", reason: "runner crashed: exit code 139" },
      { name: "runner:beta", status: "fail", reason: "runner process 12 is gone" },
    ]);
    expect(serviceStateOf(first)).toBe("down");
    const second = await runHealthChecks({
      probes: { ...probes, isProcessAlive: () => true },
      runners,
      time,
      deadlineMs: 1_000,
    });
    expect(second.map((result) => result.status)).toEqual(["pass", "pass"]);
    runners.close();
  });

  it("reads disk, event-loop lag, audit and backup states", async () => {
    const time = new FakeTime();
    const results = await runHealthChecks({
      probes: {
        disk: () => Promise.resolve({ freeBytes: 512 * 1024 ** 2, totalBytes: 10 * 1024 ** 3 }),
        eventLoopLagMs: () => 1_500,
        audit: () => ({ state: "failed", reason: "disk full" }),
        backup: () => ({ state: "missed", reason: "no backup since 26 h" }),
      },
      runners: undefined,
      time,
      deadlineMs: 1_000,
    });
    expect(results.map((result) => [result.name, result.status])).toEqual([
      ["disk", "warn"],
      ["event-loop", "warn"],
      ["audit", "fail"],
      ["backup", "warn"],
    ]);
    expect(serviceStateOf(results)).toBe("degraded");
  });
});
