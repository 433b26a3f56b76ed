/**
 * The measuring half of bench/gpu-check.sh (run that, not this, on a GPU machine):
 * `node --import tsx bench/gpu/gpu-check.ts [--size 1b|134m] [--backends cuda,cpu] [--reps 3]`
 *
 * Writes a synthetic llama model (1b: ~1.0 B parameters, q8_0, ~1.0 GiB) with the project's
 * GGUF writer, then per backend starts one RawrXD runner process (the real engine path, no
 * HTTP) and measures prompt tok/s (prefill of a ~500-token prompt) and decode tok/s (128 greedy
 * tokens), medians of `reps` after a warm-up. Prints the plan each runner chose and the measured
 * CUDA ÷ CPU ratios. Nothing here estimates or predicts a speedup: every figure is measured.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatBytes, silentLogger, systemTime, type GenerateRequest } from "../../src/core/index.js";
import { RunnerProcess, type GpuChoice } from "../../src/engine/index.js";
import {
  ensureSyntheticModel,
  syntheticModelShapes,
  type SyntheticModelPreset,
} from "../../src/gguf/index.js";
import { modelsDirectory } from "../lib/models.js";
import { promptWords } from "../lib/prompt-words.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const presets: Record<string, SyntheticModelPreset> = { "1b": "llama-1b", "134m": "llama-134m" };

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "1b" },
    backends: { type: "string", default: "cuda,cpu" },
    reps: { type: "string", default: "3" },
  },
  strict: true,
});
const preset = presets[values.size];
if (preset === undefined) throw new Error(`--size takes one of ${Object.keys(presets).join(", ")}`);
const shape = syntheticModelShapes[preset];
const backends = values.backends.split(",").map((name) => name.trim()) as GpuChoice[];
const reps = Number(values.reps);
const decodeTokens = 128;

const writeStarted = systemTime.monotonicNow();
const path = await ensureSyntheticModel(preset, modelsDirectory);
console.error(
  `${path}: ${shape.name}, ready in ${((systemTime.monotonicNow() - writeStarted) / 1000).toFixed(1)} s`,
);

const words = promptWords.slice(0, 12);
function promptFor(rep: number): string {
  // A different first word per rep: the runner's prompt cache can reuse nothing but BOS.
  return `${words[rep % words.length]} ${rep}: ${Array.from({ length: 200 }, (_, index) => words[(index * 5 + rep) % words.length]).join(" ")}`;
}

interface Measured {
  backend: string;
  plan: string;
  promptTokens: number;
  promptTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

async function measure(backend: GpuChoice): Promise<Measured> {
  const runner = await RunnerProcess.start(
    {
      name: shape.name!,
      path,
      contextTokens: 2048,
      parallel: 1,
      // CPU: calibrated thread count; GPU: the same (threads matter little with every layer offloaded).
      threads: 0,
      gpu: backend,
      loadTimeoutMs: 600_000,
      tuning: {
        requestedGpu: backend,
        gpuLayers: "auto",
        gpuMarginBytes: -1,
        cacheDirectory: join(modelsDirectory, "home", "cache"),
      },
    },
    { logger: silentLogger },
  );
  try {
    const info = runner.info;
    const plan = info.plan!;
    const describe = `${plan.backend}, ${plan.gpuLayers}/${plan.totalLayers} layers on the GPU, ${plan.threads.threads} decode / ${plan.threads.batchThreads} prompt thread(s) (${plan.threads.source}), estimate ${formatBytes(plan.estimate.deviceBytes)} device + ${formatBytes(plan.estimate.hostBytes)} host`;
    console.error(`  ${backend}: ${describe}; ${plan.reason}`);
    // Prompt tok/s = uncached prompt tokens ÷ time to the first token (the prompt's last chunk is evaluated with it).
    const once = async (rep: number): Promise<{ promptTokens: number; promptMs: number; rate: number }> => {
      const request: GenerateRequest = {
        id: `gpu-check-${backend}-${rep}`,
        model: shape.name!,
        input: { kind: "text", prompt: promptFor(rep) },
        maxTokens: decodeTokens,
        stop: [],
        sampling: { temperature: 0 },
        reportProgress: false,
        priority: "normal",
      };
      const times: number[] = [];
      let promptTokens = Number.NaN;
      const started = systemTime.monotonicNow();
      for await (const event of runner.generate(request, new AbortController().signal)) {
        if (event.type === "text-delta")
          for (let index = 0; index < event.tokenCount; index++) times.push(systemTime.monotonicNow());
        if (event.type === "end") promptTokens = event.usage.promptTokens - event.usage.cachedTokens;
      }
      return {
        promptTokens,
        promptMs: (times[0] ?? Number.NaN) - started,
        rate: times.length < 2 ? Number.NaN : ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!),
      };
    };
    await once(-1);
    const samples = [];
    for (let rep = 0; rep < reps; rep++) samples.push(await once(rep));
    return {
      backend,
      plan: describe,
      promptTokens: median(samples.map((sample) => sample.promptTokens)),
      promptTokensPerSecond: median(samples.map((sample) => (sample.promptTokens * 1000) / sample.promptMs)),
      decodeTokensPerSecond: median(samples.map((sample) => sample.rate)),
    };
  } finally {
    await runner.dispose();
  }
}

console.error(
  `gpu-check: ${shape.name}, ${availableParallelism()} CPU cores, backends ${backends.join(", ")}, ${reps} reps`,
);
const results: Measured[] = [];
const failures: string[] = [];
for (const backend of backends) {
  try {
    results.push(await measure(backend));
  } catch (error) {
    failures.push(`${backend}: ${error instanceof Error ? error.message : String(error)}`);
    console.error(`  ${failures.at(-1)}`);
  }
}
console.log("");
console.log(
  formatTable(
    ["backend", "prompt tokens", "prompt tok/s", "decode tok/s"],
    results.map((result) => [
      result.backend,
      formatNumber(result.promptTokens, 0),
      formatNumber(result.promptTokensPerSecond, 1),
      formatNumber(result.decodeTokensPerSecond, 1),
    ]),
  ),
);
const gpu = results.find((result) => result.backend !== "cpu");
const cpu = results.find((result) => result.backend === "cpu");
if (gpu !== undefined && cpu !== undefined) {
  console.log("");
  console.log(
    `Measured ${gpu.backend} ÷ cpu on this machine: prompt ${formatNumber(gpu.promptTokensPerSecond / cpu.promptTokensPerSecond, 1)}×, decode ${formatNumber(gpu.decodeTokensPerSecond / cpu.decodeTokensPerSecond, 1)}×.`,
  );
}
if (failures.length > 0) {
  console.log(`\nNot measured: ${failures.join("; ")}`);
  process.exitCode = 1;
}
