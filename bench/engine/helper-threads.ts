/**
 * `npm run bench:helper-threads -- [--models stories,134m] [--rounds 2] [--tokens 256]`
 *
 * Why the prebuilt binary decodes slower at 2 threads than at 1 (ADR 0063). node-llama-cpp
 * attaches no ggml threadpool to its contexts, and the prebuilt CPU backend is built without
 * OpenMP, so every llama_decode at n threads starts n − 1 helper threads and joins them at the
 * end (`ggml_graph_compute`'s disposable threadpool). The two threads then wait for each other at
 * every op by spinning (`ggml_barrier`). Where the kernel starts the helper on the CPU its creator
 * is running on, the creator spins there until the scheduler's tick preempts it, and the helper
 * waits for that CPU.
 *
 * Each block is node-llama-cpp used directly in a child process (helper-threads-probe.ts), or
 * RawrXD served (a fresh server, two streamed generations), under a system-wide `perf record -a
 * -k CLOCK_MONOTONIC` of the scheduler's tracepoints. The threads the decoding process made while
 * it decoded are read from `sched_wakeup_new` (the creator's CPU and the target CPU),
 * `sched_switch` (when each first ran, when it ended) and `sched_migrate_task`. Variants, on both
 * paths: the prebuilt binary at 1 thread (no helpers) and 2 threads, and the local OpenMP build at
 * 2 threads where `npm run engine:build` ran (libgomp keeps its threads). Needs `perf` (Debian:
 * `apt-get install -y linux-perf`) and the right to trace (root, or perf_event_paranoid ≤ 1).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { hasOpenmpBuild } from "../../src/engine/index.js";
import { benchDirectory, prepareModel, type BenchModel } from "../lib/models.js";
import { ServerProcess } from "../lib/server-process.js";
import { integerArgument, modelsArgument } from "../lib/arguments.js";
import { writeResultFiles } from "../lib/results.js";
import { median } from "../lib/stats.js";
import { freePrompt } from "../peer/peer-block.js";
import { httpEngine } from "../peer/peer-engines.js";
import { childrenOf } from "./process-counters.js";
import { helperStats, type HelperStats } from "./helper-threads-trace.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories,134m" },
    rounds: { type: "string", default: "2" },
    tokens: { type: "string", default: "256" },
  },
});
const models = modelsArgument(values.models);
const rounds = integerArgument("rounds", values.rounds, 1);
const tokens = integerArgument("tokens", values.tokens, 2);
const run = promisify(execFile);
await run("perf", ["--version"]).catch(() => {
  throw new Error("bench:helper-threads needs perf: apt-get install -y linux-perf");
});

interface Variant {
  key: string;
  path: "direct" | "served";
  threads: number;
  build: "prebuilt" | "openmp";
}
const variants: Variant[] = (["direct", "served"] as const).flatMap((path) => [
  { key: `${path}, prebuilt 1T`, path, threads: 1, build: "prebuilt" as const },
  { key: `${path}, prebuilt 2T`, path, threads: 2, build: "prebuilt" as const },
  ...(hasOpenmpBuild()
    ? [{ key: `${path}, engine:build 2T`, path, threads: 2, build: "openmp" as const }]
    : []),
]);

/**
 * System-wide (`-a`): a per-process trace records a `sched_switch` only in the context of the
 * process's own threads, so it misses a helper switched in from the idle task and overstates its
 * wait (a first version of this benchmark read 0.87 ms on 134M that way; system-wide, 0.03 ms).
 */
const traced = [
  "-a",
  "-e",
  "sched:sched_wakeup_new",
  "-e",
  "sched:sched_switch",
  "-e",
  "sched:sched_migrate_task",
];

async function readTrace(data: string): Promise<string> {
  const { stdout } = await run(
    "perf",
    ["script", "-i", data, "-F", "comm,pid,tid,cpu,time,event,trace", "--ns"],
    {
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  return stdout;
}

/**
 * RawrXD as users run it: a fresh server, a warm-up request, then `perf record -a` over two
 * streamed generations, read for the threads its runner (the process that decodes) made.
 */
async function runServedBlock(model: BenchModel, variant: Variant, tokens: number): Promise<HelperStats> {
  const folder = await mkdtemp(join(tmpdir(), "rawrxd-helper-threads-"));
  const data = join(folder, "perf.data");
  const server = await ServerProcess.start({
    home: folder,
    modelsDirectory: dirname(model.path),
    flags: [
      "--threads",
      String(variant.threads),
      "--speculative",
      "off",
      "--engine-build",
      variant.build,
      "--no-demo-model",
    ],
    startTimeoutMs: 60_000,
  });
  const engine = httpEngine({ url: server.url, model: basename(model.path, ".gguf"), pid: server.pid });
  try {
    await engine.generate(freePrompt(70, "warm"), 16);
    const [runner] = await childrenOf(server.pid);
    if (runner === undefined) throw new Error("No runner process found under the server.");
    const perf = spawn("perf", ["record", "-q", "-k", "CLOCK_MONOTONIC", "-o", data, ...traced], {
      stdio: "inherit",
    });
    // perf prints nothing once attached: give it the time it takes here (well under a second).
    await systemTime.sleep(1500);
    const startNs = process.hrtime.bigint();
    const generations = [];
    for (let rep = 0; rep < 2; rep++)
      generations.push(await engine.generate(freePrompt(70, `trace-${rep}`), tokens));
    const endNs = process.hrtime.bigint();
    const exited = new Promise<string>((resolve) =>
      perf.once("exit", (code, signal) => resolve(signal ?? String(code))),
    );
    perf.kill("SIGINT");
    // perf record ends by the SIGINT it was sent once it has written its file; anything else failed.
    const ending = await exited;
    if (ending !== "SIGINT" && ending !== "0")
      throw new Error(
        `perf record ended with ${ending}: it needs the right to trace (root, or perf_event_paranoid ≤ 1).`,
      );
    return {
      decodeTokensPerSecond: median(generations.map((generation) => generation.decodeTokensPerSecond)),
      tokens: generations.reduce((sum, generation) => sum + generation.tokens, 0),
      ...helperStats(await readTrace(data), runner, [startNs, endNs]),
    };
  } finally {
    await engine.close();
    await server.stop(30_000);
    await rm(folder, { recursive: true, force: true });
  }
}

async function runDirectBlock(modelPath: string, variant: Variant, tokens: number): Promise<HelperStats> {
  const folder = await mkdtemp(join(tmpdir(), "rawrxd-helper-threads-"));
  const data = join(folder, "perf.data");
  try {
    const probe = join(benchDirectory, "engine", "helper-threads-probe.ts");
    const child = spawn(
      "perf",
      [
        "record", "-q", "-k", "CLOCK_MONOTONIC", "-o", data, ...traced, "--", process.execPath, "--import", "tsx", probe,
        "--model", modelPath, "--threads", String(variant.threads), "--tokens", String(tokens), "--build", variant.build,
      ], // prettier-ignore
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`perf record of the probe exited with ${code}: ${output}`);
    const result = JSON.parse(output.trim().split("\n").at(-1)!) as {
      pid: number;
      tokens: number;
      decodeTokensPerSecond: number;
      windowNs: [string, string];
    };
    const window: [bigint, bigint] = [BigInt(result.windowNs[0]), BigInt(result.windowNs[1])];
    return {
      decodeTokensPerSecond: result.decodeTokensPerSecond,
      tokens: result.tokens,
      ...helperStats(await readTrace(data), result.pid, window),
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const startedAt = new Date(systemTime.wallNow()).toISOString();
const report: Record<string, Record<string, HelperStats[]>> = {};
const rows: string[] = [];
for (const key of models) {
  const model = await prepareModel(key);
  const blocks: Record<string, HelperStats[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < variants.length; index++) {
      const variant = variants[(index + round) % variants.length]!;
      const stats =
        variant.path === "served"
          ? await runServedBlock(model, variant, tokens)
          : await runDirectBlock(model.path, variant, tokens);
      (blocks[variant.key] ??= []).push(stats);
      process.stderr.write(
        `${model.label} round ${round + 1} ${variant.key}: ${stats.decodeTokensPerSecond.toFixed(1)} tok/s, ${stats.helpers} helpers, ${stats.onCreatorsCpu} on the creator's CPU\n`,
      );
    }
  }
  report[model.label] = blocks;
  for (const variant of variants) {
    const base = median(blocks[`${variant.path}, prebuilt 1T`]!.map((stats) => stats.decodeTokensPerSecond));
    const list = blocks[variant.key]!;
    const rate = median(list.map((stats) => stats.decodeTokensPerSecond));
    const helpers = list.reduce((sum, stats) => sum + stats.helpers, 0);
    const decoded = list.reduce((sum, stats) => sum + stats.tokens, 0);
    const onCreators = list.reduce((sum, stats) => sum + stats.onCreatorsCpu, 0);
    const waits = list.flatMap((stats) => stats.waitMs);
    const lifetimes = list.flatMap((stats) => stats.lifetimeMs);
    const cell = (numbers: number[]): string => (numbers.length === 0 ? "–" : median(numbers).toFixed(2));
    rows.push(
      `| ${model.label} | ${variant.key} | ${rate.toFixed(1)} (${(rate / base).toFixed(2)}×) | ${(helpers / decoded).toFixed(2)} | ${helpers === 0 ? "–" : `${((100 * onCreators) / helpers).toFixed(0)} %`} | ${cell(waits)} | ${cell(lifetimes)} |`,
    );
  }
}
console.log(
  [
    "| model | path, engine | decode tok/s (÷ the same path, prebuilt 1T) | threads made per token | started on the creator's CPU | wait to first run, ms (median) | helper's life, ms (median) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n"),
);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "helper-threads", latest: "helper-threads-latest.json", startedAt },
  { startedAt, tokens, rounds, report },
);
console.log(`\nWrote ${path}`);
