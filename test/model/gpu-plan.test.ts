/**
 * The CPU path for real: the runner's plan in GET /v1/gpu and `rawrxd gpu`, and --threads auto
 * calibrating at a model's first load and reusing the cached answer at the next.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { silentLogger } from "../../src/core/index.js";
import { RunnerProcess } from "../../src/engine/index.js";
import type { ThreadChoice } from "../../src/gpu/index.js";
import { hasGpuDeviceFiles } from "../e2e/helpers.js";
import { postJson, startModelServer, storiesPath, type ModelTestServer } from "./helpers.js";

interface ModelBody {
  model: string;
  backend: string;
  gpu_layers: number;
  total_layers: number;
  threads: number;
  batch_threads: number;
  threads_source: string;
  threads_detail: string;
  thread_samples: { threads: number; tokens_per_second: number }[];
  batch_thread_samples: { threads: number; tokens_per_second: number }[];
  estimate: { weights_bytes: number; resident_bytes: number };
  engine_estimate: { ram_bytes: number };
  measured_at_load: { baseline_resident_bytes: number; model_resident_bytes: number };
  resident_bytes: number;
  flash_attention: { option: boolean | "auto"; reason: string } | null;
}

interface ReportBody {
  chosen: string;
  models: ModelBody[];
}

interface ThreadsCache {
  entries: Record<string, { choice: ThreadChoice }>;
}

async function generate(url: string): Promise<void> {
  const response = await postJson(`${url}/api/generate`, {
    model: "stories260K",
    prompt: "Once upon a time",
    stream: false,
    options: { num_predict: 4 },
  });
  expect(response.status, await response.clone().text()).toBe(200);
  await response.json();
}

async function gpuReport(url: string): Promise<ReportBody> {
  return (await (await fetch(`${url}/v1/gpu`)).json()) as ReportBody;
}

describe("the runner's plan on the CPU", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    test = await startModelServer({ threads: "auto" });
  });
  afterAll(async () => test.dispose());

  it("GET /v1/gpu and rawrxd gpu show the plan: backend, layers, threads, estimate and resident memory", async () => {
    await generate(test.url);
    const body = await gpuReport(test.url);
    const isCpuMachine = !hasGpuDeviceFiles();
    if (isCpuMachine) expect(body.chosen).toBe("cpu");
    expect(body.models).toHaveLength(1);
    const model = body.models[0]!;
    expect(model).toMatchObject({
      model: "stories260K",
      backend: body.chosen,
      context_tokens: 512,
      sequences: 2,
      total_layers: 6,
    });
    if (body.chosen === "cpu") expect(model.gpu_layers).toBe(0);
    // stories260K has 8 key values per head: on the CPU flash attention is off (ADR 0057).
    if (body.chosen === "cpu")
      expect(model.flash_attention).toEqual({
        option: false,
        reason: expect.stringMatching(/^off: 8 key values/),
      });
    // --threads auto: measured at the first load, decode and prompt separately — unless the
    // machine was busy (ADR 0032): then the rule, nothing measured, measured again later.
    if (availableParallelism() > 1 && model.threads_source === "rule") {
      expect(model.threads_detail).toMatch(/^machine busy/);
      expect(model.thread_samples).toEqual([]);
    } else if (availableParallelism() > 1) {
      expect(model.threads_source).toBe("calibrated");
      const decodeCounts = model.thread_samples.map((sample) => sample.threads);
      const promptCounts = model.batch_thread_samples.map((sample) => sample.threads);
      // Decode counts are a subset: on ≤ 2 cores one core is left to the serving path.
      expect(promptCounts).toEqual(expect.arrayContaining(decodeCounts));
      expect(promptCounts).toContain(availableParallelism());
      if (availableParallelism() <= 2) expect(decodeCounts).toEqual([availableParallelism() - 1]);
      expect(decodeCounts).toContain(model.threads);
      expect(promptCounts).toContain(model.batch_threads);
    }
    expect(model.estimate.resident_bytes).toBeGreaterThan(model.estimate.weights_bytes);
    expect(model.measured_at_load.model_resident_bytes).toBeGreaterThan(0);
    expect(model.resident_bytes).toBeGreaterThan(model.measured_at_load.baseline_resident_bytes);
    expect(model.engine_estimate.ram_bytes).toBeGreaterThan(0);

    const io = createRecordingIo({ env: { RAWRXD_URL: test.url } });
    expect(await main(["gpu"], io)).toBe(0);
    const threads =
      model.batch_threads === model.threads
        ? `${model.threads}`
        : `${model.threads}, prompt ${model.batch_threads}`;
    expect(io.output()).toMatch(
      new RegExp(
        `^stories260K +${body.chosen} +${model.gpu_layers}/6 +${threads} \\(${model.threads_source}\\)`,
        "m",
      ),
    );
  });

  it.runIf(existsSync("/proc/self/environ"))(
    "the runner runs with one libuv worker, so every decode runs on the same thread (ADR 0011)",
    () => {
      const pid = test.server.queue.snapshot().loaded[0]!.info.pid!;
      const environment = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      expect(environment).toContain("UV_THREADPOOL_SIZE=1");
    },
  );
});

describe("--threads auto calibration", () => {
  let cacheDirectory: string;
  beforeAll(() => {
    cacheDirectory = mkdtempSync(join(tmpdir(), "rawrxd-threads-"));
  });
  afterAll(() => rmSync(cacheDirectory, { recursive: true, force: true }));

  async function load(): Promise<ThreadChoice> {
    // Candidates 1 and 2 whatever the machine, so the test reads the same everywhere.
    const runner = await RunnerProcess.start(
      {
        name: "stories260K",
        path: storiesPath,
        contextTokens: 256,
        parallel: 1,
        threads: 0,
        gpu: "cpu",
        loadTimeoutMs: 60_000,
        tuning: {
          requestedGpu: "cpu",
          gpuLayers: "auto",
          gpuMarginBytes: -1,
          cacheDirectory,
          threadCandidates: [1, 2],
          // A busy machine's calibration is not cached (ADR 0032): this test reads a quiet one.
          loadProbe: "quiet",
        },
      },
      { logger: silentLogger },
    );
    try {
      return runner.info.plan!.threads;
    } finally {
      await runner.dispose();
    }
  }

  it("measures each candidate at a model's first load, and the next load of the same file takes the cached count", async () => {
    const first = await load();
    expect(first.source).toBe("calibrated");
    expect(first.samples.map((sample) => sample.threads)).toEqual([1, 2]);
    expect(first.batchSamples.map((sample) => sample.threads)).toEqual([1, 2]);
    expect(first.samples.every((sample) => sample.tokensPerSecond > 0)).toBe(true);
    expect([1, 2]).toContain(first.threads);
    const cache = JSON.parse(readFileSync(join(cacheDirectory, "threads.json"), "utf8")) as ThreadsCache;
    expect(Object.values(cache.entries).map((entry) => entry.choice.threads)).toEqual([first.threads]);
    const second = await load();
    expect(second).toMatchObject({
      source: "cached",
      threads: first.threads,
      batchThreads: first.batchThreads,
      samples: first.samples,
    });
  });
});
