/** How the server reports its PostgreSQL witness: once per outage, its end, and a refusal; never the password. */
import { describe, expect, it } from "vitest";
import type { Logger } from "../core/index.js";
import type { AuditEntry, PostgresWitnessStatus } from "../ops/index.js";
import { witnessReporter } from "./audit-witness-wiring.js";

function status(state: PostgresWitnessStatus["state"], pending = 0): PostgresWitnessStatus {
  return {
    state,
    pending,
    written: 1,
    lastWrittenSeq: 1,
    lastError: state === "idle" ? null : "connect ECONNREFUSED 10.0.0.5:5432",
    failures: state === "idle" ? 0 : 1,
  };
}

describe("witnessReporter", () => {
  it("logs and records the first failure of an outage and its end, once each", () => {
    const lines: string[] = [];
    const record = (level: string) => (message: string, fields?: Record<string, unknown>) =>
      void lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
    const logger: Logger = {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    };
    const entries: AuditEntry[] = [];
    const report = witnessReporter({
      logger,
      append: (entry) => entries.push(entry),
      url: "postgres://node:s3cret@10.0.0.5/rawrxd",
    });
    for (const state of [
      "writing",
      "idle",
      "writing",
      "retrying",
      "writing",
      "retrying",
      "writing",
      "idle",
    ] as const)
      report(status(state, state === "retrying" ? 2 : 0));
    report(status("refused", 1));
    expect(entries.map((entry) => [entry.action, entry.level ?? "info"])).toEqual([
      ["audit-witness-unreachable", "warning"],
      ["audit-witness-restored", "info"],
      ["audit-witness-refused", "error"],
    ]);
    expect(entries[0]!.details).toEqual({
      witness: "postgres://node:***@10.0.0.5/rawrxd",
      pending: 2,
      reason: "connect ECONNREFUSED 10.0.0.5:5432",
    });
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^error CRITICAL: the PostgreSQL audit witness refuses this node/);
    expect(lines.join("\n") + JSON.stringify(entries)).not.toContain("s3cret");
  });
});
