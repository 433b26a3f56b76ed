import { describe, expect, it } from "vitest";
import type { WallMs } from "../../core/index.js";
import { requestsCsv, requestsJson, seriesJson } from "./metrics-export.js";
import { metricDefinitions, metricNames, metricValues, type RequestRecord } from "./request-record.js";
import { SeriesStats } from "./series-stats.js";
import { parseCsv } from "./csv.js";

const record: RequestRecord = {
  requestId: "r1",
  endedAtMs: Date.UTC(2026, 0, 1, 12, 30) as WallMs,
  model: "alpha",
  priority: "high",
  outcome: "stop",
  errorCode: undefined,
  apiKeyId: "key-1",
  queueMs: 10,
  loadMs: 20,
  promptMs: 500,
  timeToFirstTokenMs: 600,
  decodeMs: 400,
  totalMs: 1100,
  promptTokens: 60,
  completionTokens: 5,
  cachedTokens: 10,
  preemptions: 0,
};

describe("per-request statistics", () => {
  it("derives each statistic under its own name", () => {
    expect(metricValues(record)).toEqual({
      queue_ms: 10,
      load_ms: 20,
      prompt_ms: 500,
      // 50 evaluated prompt tokens (10 cached) in 0.5 s.
      prompt_tokens_per_second: 100,
      time_to_first_token_ms: 600,
      // 4 tokens after the first in 400 ms.
      inter_token_latency_ms: 100,
      decode_tokens_per_second: 10,
      total_ms: 1100,
      prompt_tokens: 60,
      completion_tokens: 5,
    });
  });

  it("keeps each statistic's unit and sketch with its name through stats, JSON and CSV", () => {
    expect(metricDefinitions.decode_tokens_per_second.unit).toBe("tokens/s");
    expect(metricDefinitions.prompt_tokens.unit).toBe("tokens");
    const stats = new SeriesStats();
    stats.add(record, metricValues(record));
    const restored = SeriesStats.fromData(JSON.parse(JSON.stringify(stats.toData())) as never);
    const json = seriesJson(restored.summary());
    for (const name of metricNames)
      expect(json.stats[name]?.max, name).toBeCloseTo(metricValues(record)[name]!, 0);
    expect(Object.keys(json.stats)).toEqual(metricNames);
  });

  it("writes each request-log column from the field it names", () => {
    const [row] = requestsJson([record]);
    expect(row).toMatchObject({
      request_id: "r1",
      ended_at: "2026-01-01T12:30:00.000Z",
      api_key_id: "key-1",
      queue_ms: 10,
      load_ms: 20,
      prompt_ms: 500,
      time_to_first_token_ms: 600,
      decode_ms: 400,
      total_ms: 1100,
      cached_tokens: 10,
      prompt_tokens_per_second: 100,
      inter_token_latency_ms: 100,
      decode_tokens_per_second: 10,
    });
    const [header, cells] = parseCsv(requestsCsv([record]));
    expect(Object.fromEntries(header!.map((column, index) => [column, cells![index]]))).toMatchObject({
      ended_at: "2026-01-01T12:30:00.000Z",
      decode_ms: "400",
      inter_token_latency_ms: "100",
    });
  });
});
