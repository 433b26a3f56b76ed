import { afterEach, describe, expect, it } from "vitest";
import { Database } from "../../store/index.js";
import { latencySlosOf, ttftSlos } from "./latency-slos.js";
import { monthWindow } from "./sla-arithmetic.js";

const databases: Database[] = [];
afterEach(() => {
  for (const database of databases.splice(0)) database.close();
});

describe("latency SLOs from the request log", () => {
  it("takes the nearest-rank p95 of time to first token per priority within the month", () => {
    const database = Database.open({ path: ":memory:" });
    databases.push(database);
    const insert = database.connection.prepare(
      "INSERT INTO request_log (request_id, ended_at, model, priority, outcome, ttft_ms, total_ms, prompt_tokens, completion_tokens) VALUES (?, ?, 'm', ?, 'stop', ?, 1, 1, 1)",
    );
    const inApril = Date.UTC(2026, 3, 10);
    // 20 high-priority requests with TTFT 10, 20, …, 200 ms: nearest rank ⌈0.95 × 20⌉ = 19 → 190 ms.
    for (let index = 1; index <= 20; index += 1) insert.run(`h${index}`, inApril, "high", index * 10);
    insert.run("late", Date.UTC(2026, 4, 1), "high", 9_999); // May: not counted
    insert.run("n1", inApril, "normal", 3_000);
    const results = latencySlosOf(
      database,
      monthWindow("2026-04")!,
      ttftSlos({ high: 150, normal: 5_000, low: 100 }),
    );
    expect(results).toEqual([
      expect.objectContaining({ name: "ttft-p95-high", observedMs: 190, requests: 20, isMet: false }),
      expect.objectContaining({ name: "ttft-p95-normal", observedMs: 3_000, requests: 1, isMet: true }),
      expect.objectContaining({ name: "ttft-p95-low", observedMs: null, requests: 0, isMet: null }),
    ]);
  });
});
