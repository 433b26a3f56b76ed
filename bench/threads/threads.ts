/**
 * `npm run bench:threads -- [--model 134m|stories] [--threads 1,2,auto] [--rounds 2] [--reps 2] [--tokens 64] [--prompt-words 80] [--engine prebuilt|openmp]`
 *
 * Where the runner's per-token time goes, which thread count to run, and how far each path is
 * from llama.cpp itself: single-stream greedy generation through up to five paths, at --threads
 * 1, 2 and auto, interleaved in blocks:
 *   llama-bench llama.cpp's own benchmark (tg with the prompt's depth in the KV cache), when
 *               bench/threads/build-llama-bench.sh has built it: the reference the ratios are taken to
 *   completion  node-llama-cpp LlamaCompletion in this process (what a library user gets)
 *   evaluate    node-llama-cpp sequence.evaluate() in this process (the API the runner uses)
 *   runner      RawrXD's runner process over IPC, no HTTP (RunnerProcess.generate)
 *   server      RawrXD's HTTP server, streamed SSE, client in this process
 * "auto" exists only for RawrXD's paths: decode threads by rule/calibration, prompt threads
 * calibrated (docs/decisions/0011). Reports TTFT, decode tok/s and CPU ms per token (CPU time
 * of every process involved; less disturbed by a busy machine than wall time). --engine openmp
 * runs node-llama-cpp's paths on the local OpenMP build (`npm run engine:build`). Prints a table
 * and writes bench/results/threads-<time>.json and threads-latest.json.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import { LlamaCompletion } from "node-llama-cpp";
import { silentLogger, type GenerateRequest, systemTime } from "../../src/core/index.js";
import { RunnerProcess } from "../../src/engine/index.js";
import {
  describeMachine,
  otherProcessCpuMs,
  processCpuMs,
  soleChildProcessId,
  waitForNoChildProcesses,
} from "../lib/machine.js";
import { completionBody, startBenchServer, streamTiming } from "../lib/bench-server.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { benchDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { decodeRate } from "../lib/samples.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { writeResultFiles } from "../lib/results.js";

type Path = "llama-bench" | "completion" | "evaluate" | "runner" | "server";
type ThreadSetting = 1 | 2 | "auto";
const llamaBenchBinary = join(benchDirectory, ".llama.cpp", "build", "bin", "llama-bench");
const hasLlamaBench = existsSync(llamaBenchBinary);
const paths: readonly Path[] = [
  ...(hasLlamaBench ? (["llama-bench"] as const) : []),
  "completion",
  "evaluate",
  "runner",
  "server",
];
const contextSize = 1024;

interface Generation {
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
  tokens: number;
}

interface Block {
  path: Path;
  setting: ThreadSetting;
  ttfts: number[];
  rates: number[];
  cpuMsPerToken: number;
  threadsDetail?: string;
}

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "134m" },
    rounds: { type: "string", default: "2" },
    reps: { type: "string", default: "2" },
    tokens: { type: "string", default: "64" },
    "prompt-words": { type: "string", default: "80" },
    threads: { type: "string", default: "1,2,auto" },
    engine: { type: "string", default: "prebuilt" },
  },
  strict: true,
});
const settings = values.threads
  .split(",")
  .map((item) => (item.trim() === "auto" ? "auto" : Number(item))) as ThreadSetting[];
if (settings.some((setting) => setting !== "auto" && setting !== 1 && setting !== 2))
  throw new Error(`--threads takes a list of 1, 2 and auto, got "${values.threads}".`);
if (values.engine !== "prebuilt" && values.engine !== "openmp")
  throw new Error(`--engine takes prebuilt or openmp, got "${values.engine}".`);
const engine = values.engine;
const rounds = Number(values.rounds);
const reps = Number(values.reps);
const maxTokens = Number(values.tokens);
const words = [
  "the",
  "old",
  "farmer",
  "walked",
  "slowly",
  "down",
  "the",
  "dusty",
  "road",
  "toward",
  "the",
  "quiet",
  "village",
  "where",
  "his",
  "daughter",
  "was",
  "waiting",
];
const basePrompt = Array.from(
  { length: Number(values["prompt-words"]) },
  (_, index) => words[index % words.length],
).join(" ");
/** A different first word per generation: nothing but BOS is reused from a previous prompt. */
const promptFor = (index: number): string => `${index} ${basePrompt}`;

/** From token arrival times: TTFT, and the decode rate with the first token (it carries the prompt) excluded. */
function generationOf(startedAt: number, times: readonly number[]): Generation {
  const tokensPerSecond =
    times.length < 2 ? Number.NaN : ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
  return { timeToFirstTokenMs: (times[0] ?? Number.NaN) - startedAt, tokensPerSecond, tokens: times.length };
}

interface BlockMeasurement {
  generate: (index: number) => Promise<Generation>;
  /** CPU time of every process on the path so far. */
  cpuMs: () => Promise<number>;
}

async function measureBlock(
  path: Path,
  setting: ThreadSetting,
  measurement: BlockMeasurement,
): Promise<Block> {
  const { generate, cpuMs } = measurement;
  await generate(-1);
  const before = await cpuMs();
  const generations: Generation[] = [];
  for (let rep = 0; rep < reps; rep++) generations.push(await generate(rep));
  const tokens = generations.reduce((sum, generation) => sum + generation.tokens, 0);
  return {
    path,
    setting,
    ttfts: generations.map((generation) => generation.timeToFirstTokenMs),
    rates: generations.map((generation) => generation.tokensPerSecond),
    cpuMsPerToken: ((await cpuMs()) - before) / tokens,
  };
}

async function directBlock(
  path: "completion" | "evaluate",
  modelPath: string,
  threads: number,
): Promise<Block> {
  const { llama, context } = await openDirectContext({
    modelPath,
    threads,
    contextSize,
    sequences: 1,
    build: engine,
  });
  try {
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    return await measureBlock(path, threads as ThreadSetting, {
      generate: async (index) => {
        await sequence.clearHistory();
        const started = systemTime.monotonicNow();
        const tokenTimes: number[] = [];
        if (path === "completion") {
          await completion.generateCompletion(promptFor(index), {
            maxTokens,
            temperature: 0,
            onToken: () => void tokenTimes.push(systemTime.monotonicNow()),
          });
        } else {
          const tokens = [
            ...(context.model.tokens.bos === null ? [] : [context.model.tokens.bos]),
            ...context.model.tokenize(promptFor(index)),
          ];
          for await (const _token of sequence.evaluate(tokens, { temperature: 0, yieldEogToken: true })) {
            tokenTimes.push(systemTime.monotonicNow());
            if (tokenTimes.length >= maxTokens) break;
          }
        }
        return generationOf(started, tokenTimes);
      },
      cpuMs: async () => processCpuMs(),
    });
  } finally {
    await llama.dispose();
  }
}

async function runnerBlock(
  modelPath: string,
  setting: ThreadSetting,
  cacheDirectory: string,
): Promise<Block> {
  const runner = await RunnerProcess.start(
    {
      name: "bench",
      path: modelPath,
      contextTokens: contextSize,
      parallel: 1,
      threads: setting === "auto" ? 0 : setting,
      gpu: "cpu",
      loadTimeoutMs: 300_000,
      tuning: {
        requestedGpu: "cpu",
        gpuLayers: "auto",
        gpuMarginBytes: -1,
        cacheDirectory,
        engineBuild: engine,
      },
    },
    { logger: silentLogger },
  );
  try {
    const pid = runner.pid!;
    const block = await measureBlock("runner", setting, {
      generate: async (index) => {
        const request: GenerateRequest = {
          id: `bench-${index}-${Math.random()}`,
          model: "bench",
          input: { kind: "text", prompt: promptFor(index) },
          maxTokens,
          stop: [],
          sampling: { temperature: 0 },
          reportProgress: false,
          priority: "normal",
        };
        const started = systemTime.monotonicNow();
        const tokenTimes: number[] = [];
        for await (const event of runner.generate(request, new AbortController().signal)) {
          if (event.type === "text-delta")
            for (let token = 0; token < event.tokenCount; token++) tokenTimes.push(systemTime.monotonicNow());
        }
        return generationOf(started, tokenTimes);
      },
      cpuMs: async () => processCpuMs() + (await otherProcessCpuMs(pid)),
    });
    return {
      ...block,
      threadsDetail: `${runner.info.plan!.threads.threads} decode / ${runner.info.plan!.threads.batchThreads} prompt (${runner.info.plan!.threads.detail})`,
    };
  } finally {
    await runner.dispose();
  }
}

async function serverBlock(modelPath: string, setting: ThreadSetting, home: string): Promise<Block> {
  const server = await startBenchServer({
    home,
    modelsDirectory: dirname(modelPath),
    flags: {
      threads: String(setting),
      "engine-build": engine,
      parallel: "1",
      "context-size": String(contextSize),
      "max-loaded-models": "1",
    },
  });
  const client = new CompletionStreamClient(server.url);
  try {
    let runnerPid: number | undefined;
    const block = await measureBlock("server", setting, {
      generate: async (index) => {
        const streamed = await client.stream(
          completionBody({ model: basename(modelPath, ".gguf"), prompt: promptFor(index), maxTokens }),
        );
        runnerPid ??= await soleChildProcessId();
        const timing = streamTiming(streamed);
        const tokens = streamed.usage?.completion_tokens ?? streamed.contentChunks;
        return {
          timeToFirstTokenMs: timing.timeToFirstTokenMs,
          tokensPerSecond: decodeRate(tokens, timing.firstToLastMs),
          tokens,
        };
      },
      cpuMs: async () => processCpuMs() + (runnerPid === undefined ? 0 : await otherProcessCpuMs(runnerPid)),
    });
    return block;
  } finally {
    client.close();
    await server.close();
  }
}

/**
 * llama.cpp's llama-bench: one tg run of maxTokens tokens after a prefill of the prompt's length
 * (-d), reps times after its own warm-up. Its per-rep rates count every generated token, ours
 * exclude the first (it carries the prompt); at 64 tokens the difference is under 2 %.
 */
async function llamaBenchBlock(modelPath: string, threads: number, promptTokens: number): Promise<Block> {
  const args = [
    "-m",
    modelPath,
    "-p",
    "0",
    "-n",
    String(maxTokens),
    "-d",
    String(promptTokens),
    "-t",
    String(threads),
    "-r",
    String(reps),
    "-o",
    "json",
  ];
  const { stdout } = await promisify(execFile)(llamaBenchBinary, args, { maxBuffer: 16 * 1024 * 1024 });
  const results = JSON.parse(stdout) as { samples_ts: number[]; build_commit: string }[];
  const rates = results.flatMap((result) => result.samples_ts);
  return {
    path: "llama-bench",
    setting: threads as ThreadSetting,
    ttfts: rates.map(() => Number.NaN),
    rates,
    cpuMsPerToken: Number.NaN,
    threadsDetail: `llama.cpp ${results[0]?.build_commit ?? "?"}`,
  };
}

const machine = await describeMachine();
const model = await prepareModel(values.model as ModelKey);
const scratch = mkdtempSync(join(tmpdir(), "rawrxd-bench-threads-"));
if (!hasLlamaBench)
  console.error(
    "threads bench: no llama-bench (run bench/threads/build-llama-bench.sh once to compare with llama.cpp itself)",
  );
const promptTokens = Math.round(Number(values["prompt-words"]) * 1.25);
console.error(
  `threads bench: ${engine} engine, ${model.label}, ${machine.cpuModel}, ${machine.availableParallelism} cores, load ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(" ")}; ${rounds} round(s) × ${reps} reps × ${maxTokens} tokens, prompt "${promptFor(0).slice(0, 40)}…" (${values["prompt-words"]} words)`,
);
const startedAt = new Date(systemTime.wallNow());
const started = systemTime.monotonicNow();
const blocks: Block[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const setting of settings) {
      for (const path of paths) {
        if (setting === "auto" && (path === "llama-bench" || path === "completion" || path === "evaluate"))
          continue;
        const blockStart = systemTime.monotonicNow();
        const block =
          path === "llama-bench"
            ? await llamaBenchBlock(model.path, setting as number, promptTokens)
            : path === "runner"
              ? await runnerBlock(model.path, setting, join(scratch, "runner-cache"))
              : path === "server"
                ? await serverBlock(model.path, setting, join(scratch, "server-home"))
                : await directBlock(path, model.path, setting as number);
        await waitForNoChildProcesses(10_000);
        blocks.push(block);
        console.error(
          `  round ${round + 1} threads=${String(setting).padEnd(4)} ${path.padEnd(10)} ${((systemTime.monotonicNow() - blockStart) / 1000).toFixed(1)} s  TTFT ms [${block.ttfts.map((ms) => ms.toFixed(0)).join(" ")}]  tok/s [${block.rates.map((rate) => rate.toFixed(1)).join(" ")}]  CPU ${block.cpuMsPerToken.toFixed(2)} ms/token${block.threadsDetail ? `  ${block.threadsDetail}` : ""}`,
        );
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const cell = (path: Path, setting: ThreadSetting) => {
  const matching = blocks.filter((block) => block.path === path && block.setting === setting);
  return {
    ttft: median(matching.flatMap((block) => block.ttfts)),
    rate: median(matching.flatMap((block) => block.rates)),
    cpu: median(matching.map((block) => block.cpuMsPerToken)),
    count: matching.length,
  };
};
const reference = (setting: ThreadSetting): number =>
  setting === "auto"
    ? Math.max(
        ...([1, 2] as const).map((threads) => cell("llama-bench", threads).rate).filter(Number.isFinite),
      )
    : cell("llama-bench", setting).rate;
/**
 * Each round's block against the llama-bench block of the same round and thread count, then the
 * median over rounds: neighbouring blocks share the machine's load of the moment, so this ratio
 * drifts less than the ratio of the run's medians.
 */
const pairedRatio = (path: Path, setting: ThreadSetting): number => {
  if (setting === "auto") return Number.NaN;
  const references = blocks.filter((block) => block.path === "llama-bench" && block.setting === setting);
  const measured = blocks.filter((block) => block.path === path && block.setting === setting);
  if (references.length !== measured.length) return Number.NaN;
  return median(measured.map((block, round) => median(block.rates) / median(references[round]!.rates)));
};
const rows = paths.flatMap((path) => {
  const measured = settings
    .map((setting) => ({ setting, ...cell(path, setting) }))
    .filter((row) => row.count > 0);
  const best = Math.max(...measured.map((row) => row.rate));
  return measured.map((row) => ({
    path,
    ...row,
    ofBestThreads: row.rate / best,
    ofLlamaBench: row.rate / reference(row.setting),
    ofLlamaBenchPaired: pairedRatio(path, row.setting),
  }));
});
console.log("");
console.log(
  formatTable(
    [
      "path",
      "threads",
      "TTFT p50 ms",
      "decode tok/s p50",
      "CPU ms/token",
      "vs best threads",
      "vs llama-bench",
      "paired by round",
    ],
    rows.map((row) => [
      row.path,
      String(row.setting),
      formatNumber(row.ttft, 0),
      formatNumber(row.rate, 1),
      formatNumber(row.cpu, 2),
      `${formatNumber(row.ofBestThreads * 100, 0)}%`,
      Number.isFinite(row.ofLlamaBench) ? `${formatNumber(row.ofLlamaBench, 2)}×` : "—",
      Number.isFinite(row.ofLlamaBenchPaired) ? `${formatNumber(row.ofLlamaBenchPaired, 2)}×` : "—",
    ]),
  ),
);
const autoDetail = blocks.find((block) => block.path === "runner" && block.setting === "auto")?.threadsDetail;
console.log("");
if (autoDetail !== undefined) console.log(`--threads auto ran ${autoDetail}.`);
const loadAverageAtEnd = loadavg();
console.log(
  `Total ${((systemTime.monotonicNow() - started) / 1000).toFixed(1)} s; load average at the end ${loadAverageAtEnd.map((load) => load.toFixed(2)).join(" ")}.`,
);
const report = {
  startedAt: startedAt.toISOString(),
  engine,
  model: model.label,
  machine,
  loadAverageAtEnd,
  options: values,
  rows,
  blocks,
};
const jsonPath = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "threads", latest: "threads-latest.json", startedAt: report.startedAt },
  report,
);
console.log(`Raw samples: ${jsonPath} (and results/threads-latest.json)`);
