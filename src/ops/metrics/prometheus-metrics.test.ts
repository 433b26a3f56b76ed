import { Gauge } from "prom-client";
import { describe, expect, it } from "vitest";
import type { WallMs } from "../../core/index.js";
import { PrometheusMetrics } from "./prometheus-metrics.js";
import { metricValues, type RequestRecord } from "./request-record.js";

/** A request whose every statistic has a different value, so a series fed the wrong one shows. */
const record: RequestRecord = {
  requestId: "r1",
  endedAtMs: Date.UTC(2026, 0, 1) as WallMs,
  model: "alpha",
  priority: "normal",
  outcome: "stop",
  errorCode: undefined,
  apiKeyId: undefined,
  queueMs: 1000,
  loadMs: 2000,
  promptMs: 3000,
  timeToFirstTokenMs: 4000,
  // 4 tokens: 3 decoded after the first in 15 s, so 5 s between tokens.
  decodeMs: 15_000,
  totalMs: 20_000,
  promptTokens: 7,
  completionTokens: 4,
  cachedTokens: 2,
  preemptions: 1,
};

function sumOf(text: string, family: string, labels = 'model="alpha",priority="normal"'): number {
  const match = new RegExp(`^${family}_sum\\{${labels}\\} (\\S+)$`, "m").exec(text);
  if (match === null) throw new Error(`${family}_sum{${labels}} missing from the exposition`);
  return Number(match[1]);
}

describe("PrometheusMetrics", () => {
  it("feeds each per-request statistic to the histogram named for it", async () => {
    const metrics = new PrometheusMetrics();
    metrics.observe(record, "alpha", metricValues(record));
    const text = await metrics.text();
    expect({
      queue: sumOf(text, "rawrxd_request_queue_seconds"),
      loadWait: sumOf(text, "rawrxd_request_load_wait_seconds"),
      prefill: sumOf(text, "rawrxd_request_prefill_seconds"),
      timeToFirstToken: sumOf(text, "rawrxd_time_to_first_token_seconds"),
      interToken: sumOf(text, "rawrxd_inter_token_latency_seconds"),
      decode: sumOf(text, "rawrxd_request_decode_seconds"),
      duration: sumOf(
        text,
        "rawrxd_request_duration_seconds",
        'model="alpha",priority="normal",outcome="stop"',
      ),
      promptLength: sumOf(text, "rawrxd_request_prompt_tokens"),
      generationLength: sumOf(text, "rawrxd_request_generation_tokens"),
    }).toEqual({
      queue: 1,
      loadWait: 2,
      prefill: 3,
      timeToFirstToken: 4,
      interToken: 5,
      decode: 15,
      duration: 20,
      promptLength: 7,
      generationLength: 4,
    });
    expect(text).toMatch(/^rawrxd_cached_prompt_tokens_total\{model="alpha",priority="normal"\} 2$/m);
    expect(text).toMatch(/^rawrxd_request_preemptions_total\{model="alpha",priority="normal"\} 1$/m);
  });

  it("counts a request refused before admission without timing it", async () => {
    const metrics = new PrometheusMetrics();
    const refused: RequestRecord = { ...record, outcome: "rejected", queueMs: undefined };
    metrics.observe(refused, "alpha", metricValues(refused));
    const text = await metrics.text();
    expect(text).toMatch(/^rawrxd_requests_total\{model="alpha",priority="normal",outcome="rejected"\} 1$/m);
    expect(text).not.toMatch(/^rawrxd_request_duration_seconds_count\{/m);
  });
});

describe("PrometheusMetrics on a cluster node", () => {
  /** The sample lines (not # HELP / # TYPE) of an exposition. */
  const samples = (text: string) => text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));

  it("labels every series with the node id, those registered later on its registry too", async () => {
    const metrics = new PrometheusMetrics({ nodeId: "node-a" });
    metrics.observe(record, "alpha", metricValues(record));
    new Gauge({
      name: "rawrxd_test_late_gauge",
      help: "Registered after.",
      registers: [metrics.registry],
    }).set(1);
    const text = await metrics.text();
    // prom-client places default labels first or last by family type: compare as sets.
    const queueSum = samples(text).find((line) => line.startsWith("rawrxd_request_queue_seconds_sum{"));
    expect(
      queueSum
        ?.match(/\{(.*)\}/)?.[1]
        ?.split(",")
        .sort(),
    ).toEqual(['model="alpha"', 'node="node-a"', 'priority="normal"']);
    expect(queueSum?.endsWith(" 1")).toBe(true);
    expect(text).toMatch(/^rawrxd_test_late_gauge\{node="node-a"\} 1$/m);
    expect(samples(text).length).toBeGreaterThan(50);
    expect(samples(text).filter((line) => !line.includes('node="node-a"'))).toEqual([]);
  });

  it("adds no node label on a single node", async () => {
    const metrics = new PrometheusMetrics();
    metrics.observe(record, "alpha", metricValues(record));
    expect(await metrics.text()).not.toContain("node=");
  });
});
