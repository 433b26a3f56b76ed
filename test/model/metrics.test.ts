/**
 * Every metric appears after real requests on the real engine (stories260K): per-request
 * timings and token rates in the JSON export, every Prometheus family with samples for the
 * model, runner RSS read from /proc for the real runner process, and a runner restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { priorities, systemTime, type ServerEvents } from "../../src/core/index.js";
import { waitFor } from "../support/wait-for.js";
import { parsePrometheusText, sampleValue } from "../e2e/metrics-text-format.js";
import { postJson, sseData, startModelServer, type ModelTestServer } from "./helpers.js";

const model = "stories260K";

/** Parsed wire JSON: the tests assert on its shape with expect. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function json(url: string): Promise<Json> {
  return (await (await fetch(url)).json()) as Json;
}

describe("metrics on the real engine", () => {
  let test: ModelTestServer;
  const warnings: ServerEvents["performance-warning"][] = [];

  beforeAll(async () => {
    test = await startModelServer({ "metrics-interval": "200ms", "warn-window": "2s" });
    test.server.events.on("performance-warning", (event) => warnings.push(event));
    // Streaming chat, non-streaming completion and Ollama generate, at every priority; the
    // repeated chat prefix gives the sequences' cache something to reuse.
    for (const priority of priorities) {
      const stream = await postJson(`${test.url}/v1/chat/completions`, {
        model,
        priority,
        stream: true,
        max_tokens: 24,
        temperature: 0,
        messages: [{ role: "user", content: "Once upon a time there was a little dog" }],
      });
      expect(sseData(await stream.text()).at(-1)).toBe("[DONE]");
      const completion = await postJson(`${test.url}/v1/completions`, {
        model,
        priority,
        prompt: "The cat sat on",
        max_tokens: 16,
        temperature: 0,
      });
      expect(completion.status).toBe(200);
    }
    const ollama = await postJson(`${test.url}/api/generate`, {
      model,
      prompt: "Lily went to the park",
      stream: false,
      options: { num_predict: 16 },
    });
    expect(ollama.status).toBe(200);
    await systemTime.sleep(300);
  });
  afterAll(async () => test.dispose());

  it("the JSON export has every per-request statistic for the model", async () => {
    const snapshot = await json(`${test.url}/v1/metrics?window=5m`);
    const view = snapshot["models"][model];
    expect(view.requests).toBe(7);
    expect(view.outcomes).toEqual({ length: 7 });
    for (const [statistic, stats] of Object.entries(
      view.stats as Record<string, { count: number; p50: number; p99: number }>,
    )) {
      const expectedCount = statistic === "load_ms" ? 1 : 7;
      expect(stats.count, statistic).toBe(expectedCount);
      expect(stats.p50, statistic).toBeGreaterThan(0);
      expect(stats.p99, statistic).toBeGreaterThanOrEqual(stats.p50);
    }
    expect(view.tokens.prompt).toBeGreaterThan(0);
    expect(view.tokens.completion).toBe(3 * 24 + 3 * 16 + 16);
    expect(Object.keys(view.priorities as object).sort()).toEqual(["high", "low", "normal"]);
    expect(snapshot["server"].loaded_models).toMatchObject([
      { model, pid: expect.any(Number), resident_bytes: expect.any(Number) },
    ]);
    expect(snapshot["server"].loaded_models[0].resident_bytes).toBeGreaterThan(1024 * 1024);
    // The GPU plan's facts (GET /v1/gpu) reach the metrics too: --threads 1 on the CPU here.
    const gpu = (await json(`${test.url}/v1/gpu`))["models"][0];
    expect(snapshot["server"].compute_backend).toBe(gpu.backend);
    expect(snapshot["server"].loaded_models[0].plan).toEqual({
      backend: gpu.backend,
      engine_build: gpu.engine_build,
      gpu_layers: gpu.gpu_layers,
      decode_threads: 1,
      prompt_threads: 1,
      estimated_resident_bytes: gpu.estimate.resident_bytes,
    });
    expect(snapshot["server"].event_loop_lag_ms).toMatchObject({
      p50: expect.any(Number),
      p99: expect.any(Number),
    });
    const log = (await json(`${test.url}/v1/metrics/requests`))["requests"] as Record<string, unknown>[];
    expect(log).toHaveLength(7);
    expect(
      log.every(
        (row) =>
          typeof row["decode_tokens_per_second"] === "number" &&
          typeof row["time_to_first_token_ms"] === "number",
      ),
    ).toBe(true);
  });

  it("every Prometheus family has samples for the model", async () => {
    const families = parsePrometheusText(await (await fetch(`${test.url}/metrics`)).text());
    const histograms = [
      "rawrxd_time_to_first_token_seconds",
      "rawrxd_request_queue_seconds",
      "rawrxd_inter_token_latency_seconds",
      "rawrxd_request_duration_seconds",
      "rawrxd_request_prefill_seconds",
      "rawrxd_request_decode_seconds",
      "rawrxd_request_prompt_tokens",
      "rawrxd_request_generation_tokens",
      "rawrxd_request_load_wait_seconds",
      "rawrxd_model_load_seconds",
    ];
    for (const name of histograms) {
      const count = families
        .get(name)
        ?.samples.filter((sample) => sample.name === `${name}_count` && sample.labels["model"] === model)
        .reduce((sum, sample) => sum + sample.value, 0);
      expect(count, name).toBeGreaterThan(0);
    }
    for (const priority of priorities) {
      expect(
        sampleValue(families, "rawrxd_requests_total", { model, priority, outcome: "length" }),
      ).toBeGreaterThan(0);
      expect(sampleValue(families, "rawrxd_generation_tokens_total", { model, priority })).toBeGreaterThan(0);
      expect(sampleValue(families, "rawrxd_prompt_tokens_total", { model, priority })).toBeGreaterThan(0);
      expect(
        families.get("rawrxd_queue_depth")?.samples.some((sample) => sample.labels["priority"] === priority),
      ).toBe(true);
    }
    expect(sampleValue(families, "rawrxd_models_loaded", {})).toBe(1);
    expect(sampleValue(families, "rawrxd_runner_resident_memory_bytes", { model })).toBeGreaterThan(
      1024 * 1024,
    );
    expect(sampleValue(families, "rawrxd_model_memory_bytes", { model })).toBeGreaterThan(0);
    expect(sampleValue(families, "rawrxd_process_resident_memory_bytes", {})).toBeGreaterThan(0);
    const gpu = (await json(`${test.url}/v1/gpu`))["models"][0];
    expect(sampleValue(families, "rawrxd_compute_backend_info", { backend: gpu.backend })).toBe(1);
    expect(
      sampleValue(families, "rawrxd_model_plan_info", {
        model,
        backend: gpu.backend,
        engine_build: gpu.engine_build,
      }),
    ).toBe(1);
    expect(sampleValue(families, "rawrxd_model_gpu_layers", { model })).toBe(gpu.gpu_layers);
    expect(sampleValue(families, "rawrxd_model_threads", { model, phase: "decode" })).toBe(1);
    expect(sampleValue(families, "rawrxd_model_threads", { model, phase: "prompt" })).toBe(1);
    expect(sampleValue(families, "rawrxd_model_estimated_resident_bytes", { model })).toBe(
      gpu.estimate.resident_bytes,
    );
    expect(families.get("rawrxd_event_loop_lag_p99_seconds")?.samples).toHaveLength(1);
    expect(families.has("rawrxd_requests_in_flight")).toBe(true);
  });

  it("counts a runner restart and raises then clears its warning", async () => {
    const [loaded] = (await json(`${test.url}/v1/metrics?window=1m`))["server"].loaded_models as {
      pid: number;
    }[];
    process.kill(loaded!.pid, "SIGKILL");
    await waitFor(
      () => warnings.some((warning) => warning.state === "clear"),
      "the warning to clear",
      10_000,
    );
    expect(warnings.map((warning) => `${warning.rule}:${warning.state}`)).toEqual([
      "runner-restart:start",
      "runner-restart:clear",
    ]);
    const families = parsePrometheusText(await (await fetch(`${test.url}/metrics`)).text());
    expect(sampleValue(families, "rawrxd_runner_restarts_total", { model })).toBe(1);
    expect((await json(`${test.url}/v1/metrics?window=1m`))["server"].runner_restarts).toEqual({
      [model]: 1,
    });
  });
});
