/**
 * Metrics through the real server with FakeEngine: Prometheus text that a strict parser
 * accepts and whose histogram counts match the JSON export, per-model and per-priority
 * percentiles checked against the request log, CSV export (HTTP and `rawrxd metrics export`),
 * rollups across a restart, and a slow model raising and then clearing a warning.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/app/index.js";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { loadConfig } from "../../src/config/index.js";
import { priorities, silentLogger, type ServerEvents } from "../../src/core/index.js";
import { FakeEngine, type FakeModelBehaviour } from "../../src/engine/index.js";
import { exactQuantile, parseCsv, relativeAccuracy } from "../../src/ops/index.js";
import {
  baseFlags,
  bodyOf,
  makeHome,
  postJson,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from "./helpers.js";
import { parsePrometheusText, sampleValue } from "./metrics-text-format.js";

const models = ["alpha", "beta"] as const;

/** A mixed load: both models, all priorities, streaming and not, both dialects. */
async function mixedLoad(url: string, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      priorities.flatMap((priority, index) => [
        postJson(`${url}/v1/chat/completions`, {
          model: models[(round + index) % 2],
          priority,
          stream: round % 2 === 0,
          messages: [{ role: "user", content: `hello ${round}` }],
        }).then((response) => response.text()),
        postJson(
          `${url}/api/generate`,
          { model: models[(round + index + 1) % 2], prompt: `tell me ${round}`, stream: false },
          { headers: { "x-priority": priority } },
        ).then((response) => response.text()),
      ]),
    );
  }
}

describe("metrics after a mixed load", () => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer({
      models: { alpha: { tokenDelayMs: 2 }, beta: { tokenDelayMs: 1, reply: "short answer from beta" } },
      flags: { "max-queue": "64" },
    });
    await mixedLoad(test.url, 6);
    await postJson(`${test.url}/v1/chat/completions`, {
      model: "no-such-model",
      messages: [{ role: "user", content: "x" }],
    }).then((response) => response.text());
  });
  afterAll(async () => test.dispose());

  it("GET /metrics parses strictly and its histogram counts agree with the JSON export", async () => {
    const response = await fetch(`${test.url}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await response.text());
    for (const name of [
      "rawrxd_time_to_first_token_seconds",
      "rawrxd_request_queue_seconds",
      "rawrxd_inter_token_latency_seconds",
      "rawrxd_request_duration_seconds",
    ]) {
      expect(families.get(name)?.type).toBe("histogram");
    }
    for (const name of [
      "rawrxd_requests_total",
      "rawrxd_prompt_tokens_total",
      "rawrxd_generation_tokens_total",
      "rawrxd_runner_restarts_total",
    ])
      expect(families.get(name)?.type).toBe("counter");
    for (const name of [
      "rawrxd_queue_depth",
      "rawrxd_requests_in_flight",
      "rawrxd_models_loaded",
      "rawrxd_model_memory_bytes",
      "rawrxd_process_resident_memory_bytes",
    ])
      expect(families.get(name)?.type).toBe("gauge");
    for (const family of families.values()) {
      for (const sample of family.samples) {
        const { le, ...labels } = sample.labels;
        void le;
        // Bounded labels only: models the server admitted, and short fixed vocabularies.
        expect(
          Object.keys(labels).every((label) =>
            // state, figure, window: the SLA gauges' fixed vocabularies.
            [
              "model",
              "priority",
              "outcome",
              "backend",
              "engine_build",
              "phase",
              "state",
              "figure",
              "window",
            ].includes(label),
          ),
          `${sample.name} ${JSON.stringify(labels)}`,
        ).toBe(true);
      }
    }

    const snapshot = await bodyOf(await fetch(`${test.url}/v1/metrics?window=start`));
    let total = 0;
    for (const model of models) {
      for (const priority of priorities) {
        const leaf = snapshot.models[model].priorities[priority];
        const labels = { model, priority };
        expect(sampleValue(families, "rawrxd_time_to_first_token_seconds_count", labels)).toBe(
          leaf.stats.time_to_first_token_ms.count,
        );
        expect(sampleValue(families, "rawrxd_request_queue_seconds_count", labels)).toBe(
          leaf.stats.queue_ms.count,
        );
        expect(sampleValue(families, "rawrxd_inter_token_latency_seconds_count", labels)).toBe(
          leaf.stats.inter_token_latency_ms.count,
        );
        expect(
          sampleValue(families, "rawrxd_request_duration_seconds_count", { ...labels, outcome: "stop" }),
        ).toBe(leaf.stats.total_ms.count);
        expect(sampleValue(families, "rawrxd_requests_total", { ...labels, outcome: "stop" })).toBe(
          leaf.requests,
        );
        expect(sampleValue(families, "rawrxd_generation_tokens_total", labels)).toBe(leaf.tokens.completion);
        expect(leaf.requests).toBe(6);
        total += leaf.requests;
      }
    }
    expect(total).toBe(36);
    expect(
      sampleValue(families, "rawrxd_requests_total", {
        model: "(unknown)",
        priority: "normal",
        outcome: "error",
      }),
    ).toBe(1);
    expect(
      sampleValue(families, "rawrxd_request_errors_total", {
        model: "(unknown)",
        priority: "normal",
        outcome: "model-not-found",
      }),
    ).toBe(1);
    expect(sampleValue(families, "rawrxd_models_loaded", {})).toBe(2);
  });

  it("GET /v1/metrics gives per-model and per-priority p50/p95/p99 that match the request log", async () => {
    const snapshot = await bodyOf(await fetch(`${test.url}/v1/metrics?window=1m`));
    const log = (await bodyOf(await fetch(`${test.url}/v1/metrics/requests?limit=1000`))).requests as Json[];
    expect(log).toHaveLength(37);
    expect(Object.keys(log[0] as object).slice(0, 5)).toEqual([
      "request_id",
      "ended_at",
      "model",
      "priority",
      "outcome",
    ]);
    const check = (view: Json, rows: Json[]) => {
      for (const statistic of ["time_to_first_token_ms", "total_ms", "decode_tokens_per_second"]) {
        const values = rows
          .map((row) => row[statistic] as number | null)
          .filter((value): value is number => value !== null);
        expect(view.stats[statistic].count).toBe(values.length);
        for (const [q, key] of [
          [0.5, "p50"],
          [0.95, "p95"],
          [0.99, "p99"],
        ] as const) {
          const exact = exactQuantile(
            [...values].sort((a, b) => a - b),
            q,
          )!;
          expect(Math.abs(view.stats[statistic][key] - exact), `${statistic} ${key}`).toBeLessThanOrEqual(
            exact * relativeAccuracy + 0.002,
          );
        }
      }
    };
    for (const model of models) {
      check(
        snapshot.models[model],
        log.filter((row) => row.model === model),
      );
      for (const priority of priorities)
        check(
          snapshot.models[model].priorities[priority],
          log.filter((row) => row.model === model && row.priority === priority),
        );
    }
    for (const priority of priorities)
      check(
        snapshot.priorities[priority],
        log.filter((row) => row.priority === priority && row.model !== "(unknown)"),
      );
    expect(snapshot.server.in_flight).toBe(0);
    expect(
      (snapshot.server.loaded_models as { model: string }[]).map((loaded) => loaded.model).sort(),
    ).toEqual(["alpha", "beta"]);
    expect(snapshot.server.queue).toHaveLength(6);
  });

  it("exports CSV over HTTP and with `rawrxd metrics export`", async () => {
    const response = await fetch(`${test.url}/v1/metrics?window=1h&format=csv`);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    const text = await response.text();
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([
      "window",
      "from",
      "to",
      "model",
      "priority",
      "statistic",
      "unit",
      "count",
      "total",
      "min",
      "max",
      "mean",
      "p50",
      "p95",
      "p99",
    ]);
    expect(rows.every((row) => row.length === rows[0]!.length)).toBe(true);
    const json = await bodyOf(await fetch(`${test.url}/v1/metrics?window=1h`));
    const ttft = rows.find(
      (row) => row[3] === "alpha" && row[4] === "high" && row[5] === "time_to_first_token_ms",
    )!;
    const expected = json.models.alpha.priorities.high.stats.time_to_first_token_ms;
    expect(ttft.slice(7, 8).concat(ttft.slice(12)).map(Number)).toEqual([
      expected.count,
      expected.p50,
      expected.p95,
      expected.p99,
    ]);

    const io = createRecordingIo({ env: { RAWRXD_URL: test.url } });
    expect(await main(["metrics", "export", "--format", "csv", "--window", "1h"], io)).toBe(0);
    const exported = parseCsv(io.output());
    expect(exported[0]).toEqual(rows[0]);
    expect(exported.filter((row) => row[5] === "requests" && row[3] === "*" && row[4] === "*")[0]?.[7]).toBe(
      "37",
    );

    const requests = createRecordingIo({ env: { RAWRXD_URL: test.url } });
    expect(await main(["metrics", "export", "--requests", "--limit", "5"], requests)).toBe(0);
    const requestRows = parseCsv(requests.output());
    expect(requestRows).toHaveLength(6);
    expect(requestRows[0]).toContain("time_to_first_token_ms");
  });

  it("refuses bad parameters with 400", async () => {
    const bad = await fetch(`${test.url}/v1/metrics?window=forever`);
    expect(bad.status).toBe(400);
    expect((await bodyOf(bad)).error.param).toBe("window");
    expect((await fetch(`${test.url}/v1/metrics?format=xml`)).status).toBe(400);
    expect((await fetch(`${test.url}/v1/metrics/requests?limit=0`)).status).toBe(400);
  });
});

describe("metrics history across a restart", () => {
  it("keeps the per-minute rollups and the request log under the same home", async () => {
    const { home, modelsDir } = makeHome(["alpha"]);
    const start = () =>
      startServer(loadConfig({ flags: baseFlags(home, modelsDir), env: {}, readConfigFile: false }), {
        engine: new FakeEngine({ alpha: {} }),
        logger: silentLogger,
        handleSignals: false,
      });
    try {
      const first = await start();
      for (const priority of priorities)
        await postJson(`${first.url}/v1/completions`, { model: "alpha", prompt: "hi", priority }).then(
          (response) => response.text(),
        );
      const before = await bodyOf(await fetch(`${first.url}/v1/metrics?window=1h`));
      await first.close();

      const second = await start();
      try {
        const after = await bodyOf(await fetch(`${second.url}/v1/metrics?window=1h`));
        expect(after.overall.requests).toBe(3);
        expect(after.models.alpha.priorities.low.stats.total_ms).toEqual(
          before.models.alpha.priorities.low.stats.total_ms,
        );
        expect((await bodyOf(await fetch(`${second.url}/v1/metrics?window=24h`))).overall.requests).toBe(3);
        expect((await bodyOf(await fetch(`${second.url}/v1/metrics?window=start`))).overall.requests).toBe(0);
        expect((await bodyOf(await fetch(`${second.url}/v1/metrics/requests`))).requests).toHaveLength(3);
        const history = parseCsv(
          await (await fetch(`${second.url}/v1/metrics/history?since=1h&format=csv`)).text(),
        );
        expect(history[0]!.slice(0, 4)).toEqual(["minute", "model", "priority", "statistic"]);
        expect(
          history.filter((row) => row[3] === "requests").reduce((sum, row) => sum + Number(row[5]), 0),
        ).toBe(3);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("performance warnings", () => {
  it("a forced slow model raises a warning, then clears it once it is fast again", async () => {
    const slow: FakeModelBehaviour = { reply: "one two three four five six", tokenDelayMs: 50 };
    const test = await startTestServer({
      models: { slow },
      flags: {
        "warn-decode-tps": "30",
        "warn-window": "1s",
        "warn-for": "0",
        "warn-min-requests": "2",
        "metrics-interval": "100ms",
        "warn-event-loop-lag": "0",
      },
    });
    const seen: ServerEvents["performance-warning"][] = [];
    test.server.events.on("performance-warning", (event) => seen.push(event));
    const generate = () =>
      Promise.all(
        [1, 2].map(() =>
          postJson(`${test.url}/v1/completions`, { model: "slow", prompt: "go" }).then((response) =>
            response.text(),
          ),
        ),
      );
    try {
      await generate();
      await waitFor(() => seen.length === 1, "the slow-decode warning", 3000);
      expect(seen[0]).toMatchObject({ rule: "decode-speed", model: "slow", state: "start", threshold: 30 });
      const active = await bodyOf(await fetch(`${test.url}/v1/metrics/warnings`));
      expect(active.active).toMatchObject([{ rule: "decode-speed", model: "slow", state: "active" }]);
      expect(active.active[0].message).toMatch(/Model "slow" decodes .* tokens\/s .*below the 30 tokens\/s/);

      slow.tokenDelayMs = 0;
      await generate();
      await waitFor(() => seen.length === 2, "the warning to clear", 3000);
      expect(seen.map((event) => event.state)).toEqual(["start", "clear"]);
      const after = await bodyOf(await fetch(`${test.url}/v1/metrics/warnings`));
      expect(after.active).toEqual([]);
      expect((after.recent as { state: string }[]).map((warning) => warning.state)).toEqual([
        "cleared",
        "active",
      ]);
      expect((await bodyOf(await fetch(`${test.url}/v1/metrics?window=1m`))).server.active_warnings).toBe(0);
    } finally {
      await test.dispose();
    }
  });

  it("--no-metrics removes the routes", async () => {
    const test = await startTestServer({ flags: { "no-metrics": "true" } });
    try {
      expect(test.server.metrics).toBeUndefined();
      expect((await fetch(`${test.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${test.url}/v1/metrics`)).status).toBe(404);
    } finally {
      await test.dispose();
    }
  });
});
