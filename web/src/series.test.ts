import { describe, expect, it } from "vitest";
import {
  memorySample,
  outcomeSample,
  percentileSample,
  queueSample,
  SeriesWindow,
  type MetricsWire,
} from "./series.js";

const metrics: MetricsWire = {
  overall: { requests: 3, outcomes: { stop: 2, cancelled: 1 }, stats: {} },
  models: {
    alpha: {
      requests: 3,
      outcomes: {},
      stats: { time_to_first_token_ms: { count: 3, p50: 10, p95: 20, p99: 30 } },
    },
    beta: { requests: 0, outcomes: {}, stats: {} },
  },
};

describe("SeriesWindow", () => {
  it("keeps columnar points, gaps for lines that appear later, and only the last `capacity`", () => {
    const window = new SeriesWindow(3);
    window.add(1, { a: 1 });
    window.add(2, { a: 2, b: 5 });
    expect(window.data()).toEqual([
      [1, 2],
      [1, 2],
      [null, 5],
    ]);
    window.add(3, { b: 6 });
    window.add(4, { a: 4, b: 7 });
    expect(window.names).toEqual(["a", "b"]);
    expect(window.data()).toEqual([
      [2, 3, 4],
      [2, null, 4],
      [5, 6, 7],
    ]);
    expect(window.length).toBe(3);
  });
});

describe("samples from the server's JSON", () => {
  it("per-model percentiles, with nulls for a model without data", () => {
    expect(percentileSample(metrics, "time_to_first_token_ms")).toEqual({
      "alpha p50": 10,
      "alpha p95": 20,
      "alpha p99": 30,
      "beta p50": null,
      "beta p95": null,
      "beta p99": null,
    });
  });

  it("outcomes, queue depth per priority summed over models, and memory in MiB", () => {
    expect(outcomeSample(metrics)).toEqual({ stop: 2, cancelled: 1 });
    expect(
      queueSample({
        models: [
          {
            model: "a",
            priorities: {
              high: { queued: 1, running: 1 },
              normal: { queued: 2, running: 0 },
              low: { queued: 0, running: 0 },
            },
          },
          {
            model: "b",
            priorities: {
              high: { queued: 0, running: 0 },
              normal: { queued: 3, running: 1 },
              low: { queued: 1, running: 0 },
            },
          },
        ],
      }),
    ).toEqual({ high: 1, normal: 5, low: 1 });
    expect(memorySample({ models: [{ name: "a", size: 3 * 1024 * 1024 }] })).toEqual({ a: 3 });
  });
});
