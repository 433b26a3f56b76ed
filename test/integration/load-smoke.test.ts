/**
 * The load of `npm run bench:load` (issue #15 §3), small enough for CI: 50 clients for 15 s
 * against a real `rawrxd serve` child process on stories260K with --max-queue 8 and audit on,
 * mixed priorities and dialects, some clients aborting, cancelling with DELETE or disconnecting.
 * Nothing the server answered may be a 5xx, a hang, a reset or a broken stream; every
 * rejection carries Retry-After; every served request has its audit record; verify passes.
 */
import { describe, expect, it } from "vitest";
import { runLoad } from "../../bench/load/load-generator.js";
import { summarizeLoad } from "../../bench/load/load-report.js";
import { violationKinds } from "../../bench/load/load-request.js";

describe("load smoke: 50 clients, --max-queue 8, stories260K", () => {
  it("serves, rejects with Retry-After, loses no audit record and stops cleanly", async () => {
    const run = await runLoad({
      model: "stories",
      clients: 50,
      durationMs: 15_000,
      maxQueue: 8,
      mix: { abort: 0.1, delete: 0.1, disconnect: 0.05 },
      maxTokens: { min: 8, max: 48 },
      hangTimeoutMs: 60_000,
      sampleIntervalMs: 1_000,
      seed: 15,
      serverFlags: ["--threads", "1", "--parallel", "4"],
      log: () => undefined,
    });
    const summary = summarizeLoad(run);
    const kinds = summary.byKind;

    // The run was a load: requests served, more turned away at the queue, the client's cancels happened.
    expect(kinds.served ?? 0).toBeGreaterThan(20);
    expect(kinds.rejected ?? 0).toBeGreaterThan(0);
    expect((kinds.aborted ?? 0) + (kinds.cancelled ?? 0) + (kinds.disconnected ?? 0)).toBeGreaterThan(0);
    expect(Object.keys(summary.byDialect).sort()).toEqual(["ollama", "openai"]);

    // The properties: zero of each violation, with the offenders named when one shows up.
    const violations = run.outcomes
      .filter((outcome) => violationKinds.includes(outcome.kind))
      .map((outcome) => `${outcome.kind} ${outcome.plan.id}: ${outcome.detail ?? ""}`);
    expect(violations).toEqual([]);
    expect(kinds["client-error"] ?? 0).toBe(0);
    expect(summary.failedDeletes).toBe(0);
    expect(run.outcomes.filter((o) => o.kind === "rejected").every((o) => o.retryAfterSeconds! > 0)).toBe(
      true,
    );

    expect(run.audit.missingExamples).toEqual([]);
    expect(run.audit.missingRecords).toBe(0);
    // A served request's record says success (a DELETE that landed is counted as cancelled, not served).
    expect(run.audit.servedNotSuccessExamples).toEqual([]);
    expect(run.audit.verifySummary).toMatch(/^INTACT/);
    expect(run.audit.verifyPassed).toBe(true);

    expect(run.serverExit).toEqual({ code: 0, signal: null, killed: false });
    expect(run.samples.length).toBeGreaterThan(5);
    expect(run.samples.every((sample) => sample.mainRssBytes > 0)).toBe(true);
  });
});
