/**
 * `npm run bench:batching -- [--models stories,134m] [--threads 1,2] [--tokens 64] [--rounds 2] [--build prebuilt,openmp] [--dispatch gather] [--uv-threads 1] [--server]`
 *
 * Concurrent streams (issue #17, item 3; ADRs 0030, 0044): one context with 4 sequences, 1
 * against 4 greedy streams at once, with node-llama-cpp's own batch dispatch, the runner's decode
 * gatherer queuing each batch in arrival order (before ADR 0044) and in sequence-id order (now),
 * interleaved in each round. Reports the aggregate tok/s, the llama_decode calls, the 4-stream
 * ÷ 1-stream ratio and each step's split (step-probe.ts: build, native decode, samples, the
 * JavaScript between). With --server, the same 1 and 4 streams through two RawrXD servers
 * (--parallel 4: runner process, IPC, HTTP), arrival and sequence order side by side. Prints
 * tables, writes bench/results/batching-*.json.
 *
 * `--build prebuilt,openmp,openmp-fused` runs the direct rows on the pinned prebuilt binary and on
 * the local OpenMP build (`npm run engine:build`), one after the other in each round. For
 * "openmp" the build's fused decode-and-sample call (ADR 0051) is turned off
 * (`context.rawrxdFusedSample`), so it decodes, then samples through the same calls as the
 * prebuilt binary, and the step split compares the native decode alone: kept OpenMP threads
 * against a helper thread started per decode (ADR 0063). "openmp-fused" leaves the call on (one
 * native call a step, no split). `--uv-threads` is the
 * libuv pool size, 1 as in the runner (runner-process.ts), so a step's samples queue on the
 * decoding thread as they do there.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LlamaContext, Token } from "node-llama-cpp";
import { systemTime } from "../../src/core/index.js";
import { hasOpenmpBuild } from "../../src/engine/index.js";
import { DecodeGather, type GatherOrder } from "../../src/engine/runner/decode-gather.js";
import { installSampleGate } from "../../src/engine/runner/sample-gate.js";
import type { RunningServer } from "../../src/app/index.js";
import { completionBody } from "../lib/bench-server.js";
import { startBenchServer } from "../lib/bench-server.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { describeMachine } from "../lib/machine.js";
import { integerArgument, modelsArgument } from "../lib/arguments.js";
import { benchDirectory, modelsDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { StepProbe, type StepSplit } from "./step-probe.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories,134m" },
    threads: { type: "string", default: "1,2" },
    tokens: { type: "string", default: "64" },
    rounds: { type: "string", default: "2" },
    build: { type: "string", default: "prebuilt" },
    dispatch: { type: "string", default: "node-llama-cpp,gather-arrival,gather" },
    "uv-threads": { type: "string", default: "1" },
    server: { type: "boolean", default: false },
  },
});
// The pool size is read at the pool's first use, so the benchmark runs itself again with it set.
if (process.env["UV_THREADPOOL_SIZE"] !== values["uv-threads"]) {
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: values["uv-threads"] },
    stdio: "inherit",
  });
  process.exit(again.status ?? 1);
}
const tokens = integerArgument("tokens", values.tokens, 2);
const rounds = integerArgument("rounds", values.rounds, 1);
const models = modelsArgument(values.models);
const prompts = [
  "Once upon a time there was a little girl named Lily. She liked to play",
  "The dog ran to the park with a big red ball. He was very happy and",
  "Tom had a toy car. He liked to play with it every day. One day his car",
  "One day, a bird sat on a tree and sang a happy song. A little boy heard",
];

/** The engine a direct row runs on; "openmp-fused" is the build with its fused call left on. */
type Build = "prebuilt" | "openmp" | "openmp-fused";

interface Row {
  model: string;
  build: Build;
  threads: number;
  path: "direct" | "server";
  dispatch: Dispatch;
  streams: number;
  tokPerSecond: number[];
  decodeCalls: number[];
  /** Per-step split of the direct runs (step-probe.ts), one per round. */
  splits: StepSplit[];
}

/**
 * node-llama-cpp's own dispatch; the gatherer queuing each batch in arrival order (before ADR
 * 0044); the gatherer queuing it in sequence-id order (the runner's now).
 */
type Dispatch = "node-llama-cpp" | "gather-arrival" | "gather";
const allDispatches: readonly Dispatch[] = ["node-llama-cpp", "gather-arrival", "gather"];
const dispatches = values.dispatch.split(",") as Dispatch[];
for (const dispatch of dispatches)
  if (!allDispatches.includes(dispatch))
    throw new Error(`--dispatch takes ${allDispatches.join(", ")}; got "${dispatch}".`);
const builds = values.build.split(",").map((build): Build => {
  if (build !== "prebuilt" && build !== "openmp" && build !== "openmp-fused")
    throw new Error(`--build takes prebuilt, openmp, openmp-fused; got "${build}".`);
  return build;
});
if (builds.some((build) => build !== "prebuilt") && !hasOpenmpBuild())
  throw new Error(`--build ${values.build} needs the local OpenMP build: run npm run engine:build first.`);
const orderOf: Record<Dispatch, GatherOrder | undefined> = {
  "node-llama-cpp": undefined,
  "gather-arrival": "arrival",
  gather: "sequence",
};

async function directStreams(
  context: LlamaContext,
  gather: DecodeGather | undefined,
  count: number,
): Promise<number> {
  const sequences = prompts.slice(0, count).map(() => context.getSequence());
  const startedAt = systemTime.monotonicNow();
  let total = 0;
  await Promise.all(
    sequences.map(async (sequence, index) => {
      await sequence.clearHistory();
      gather?.join();
      let produced = 0;
      const prompt: Token[] = context.model.tokenize(prompts[index]!);
      for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
        void token;
        total += 1;
        if (++produced >= tokens) break;
      }
      gather?.leave();
    }),
  );
  const rate = (total / (systemTime.monotonicNow() - startedAt)) * 1000;
  for (const sequence of sequences) await sequence.dispose();
  return rate;
}

async function direct(
  plan: { model: { label: string; path: string }; build: Build; threads: number },
  rows: Row[],
): Promise<void> {
  const { model, build, threads } = plan;
  const { llama, context } = await openDirectContext({
    modelPath: model.path,
    threads,
    contextSize: 1024,
    sequences: 4,
    build: build === "prebuilt" ? "prebuilt" : "openmp",
  });
  // Decode, then sample on the build too (but for "openmp-fused"): the step split then times
  // the native decode alone. The fused call samples inside the decode, so its rows have no split.
  (context as unknown as { rawrxdFusedSample?: boolean }).rawrxdFusedSample = build === "openmp-fused";
  // As the runner does (ADR 0034): the first sample after each decode runs alone.
  installSampleGate(context);
  const probe = new StepProbe(context);
  try {
    for (const dispatch of dispatches) {
      const order = orderOf[dispatch];
      const gather = order === undefined ? undefined : new DecodeGather(context, { order });
      for (const streams of [1, 4]) {
        probe.mark();
        const before = probe.decodes;
        const rate = await directStreams(context, gather, streams);
        const row = rowFor(rows, { model: model.label, build, threads, path: "direct", dispatch, streams });
        row.tokPerSecond.push(rate);
        progress(row, rate);
        row.decodeCalls.push(probe.decodes - before);
        row.splits.push(probe.split(streams));
      }
      gather?.uninstall();
    }
  } finally {
    await llama.dispose();
  }
}

/**
 * Two servers side by side, interleaved per round: the runner's gatherer in sequence-id order
 * (the default) and in arrival order (before ADR 0044; RAWRXD_BENCH_GATHER_ORDER=arrival, read
 * by the runner when it starts, so each server is warmed with its value set).
 */
async function server(model: { key: ModelKey; label: string }, threads: number, rows: Row[]): Promise<void> {
  const name = model.key === "stories" ? "stories260K" : "synthetic-llama-134m";
  const variants: {
    dispatch: Dispatch;
    home: string;
    running: RunningServer;
    clients: CompletionStreamClient[];
  }[] = [];
  try {
    for (const dispatch of ["gather", "gather-arrival"] as const) {
      const home = mkdtempSync(join(tmpdir(), "rawrxd-bench-batching-"));
      const running = await startBenchServer({
        home,
        modelsDirectory,
        flags: {
          threads: String(threads),
          parallel: "4",
          "context-size": "1024",
          "engine-build": "prebuilt",
        },
      });
      const clients = prompts.map(() => new CompletionStreamClient(running.url));
      variants.push({ dispatch, home, running, clients });
      if (dispatch === "gather-arrival") process.env["RAWRXD_BENCH_GATHER_ORDER"] = "arrival";
      try {
        await clients[0]!.stream(completionBody({ model: name, prompt: prompts[0]!, maxTokens: 4 }));
      } finally {
        delete process.env["RAWRXD_BENCH_GATHER_ORDER"];
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const { dispatch, clients } of variants) {
        for (const streams of [1, 4]) {
          const startedAt = systemTime.monotonicNow();
          const results = await Promise.all(
            clients
              .slice(0, streams)
              .map((client, index) =>
                client.stream(completionBody({ model: name, prompt: prompts[index]!, maxTokens: tokens })),
              ),
          );
          const total = results.reduce((sum, result) => sum + (result.usage?.completion_tokens ?? 0), 0);
          const row = rowFor(rows, {
            model: model.label,
            build: "prebuilt",
            threads,
            path: "server",
            dispatch,
            streams,
          });
          row.tokPerSecond.push((total / (systemTime.monotonicNow() - startedAt)) * 1000);
          progress(row, row.tokPerSecond.at(-1)!);
        }
      }
    }
  } finally {
    for (const { running, home } of variants) {
      await running.close();
      rmSync(home, { recursive: true, force: true });
    }
  }
}

/** One line per measurement on stderr, so a long or interrupted run shows where it is. */
function progress(row: Row, rate: number): void {
  process.stderr.write(
    `  ${row.model} ${row.build} ${row.threads}T ${row.path} ${row.dispatch} ×${row.streams}: ${formatNumber(rate, 0)} tok/s\n`,
  );
}

function rowFor(rows: Row[], key: Omit<Row, "tokPerSecond" | "decodeCalls" | "splits">): Row {
  let row = rows.find((candidate) =>
    Object.entries(key).every(([field, value]) => candidate[field as keyof Row] === value),
  );
  if (row === undefined) {
    row = { ...key, tokPerSecond: [], decodeCalls: [], splits: [] };
    rows.push(row);
  }
  return row;
}

const startedAt = new Date(systemTime.wallNow()).toISOString();
const machine = await describeMachine();
const rows: Row[] = [];
for (const key of models) {
  const model = await prepareModel(key);
  for (const threads of values.threads.split(",").map(Number)) {
    // Builds alternate within each round (a process loads one engine at a time).
    for (let round = 0; round < rounds; round++)
      for (const build of round % 2 === 0 ? builds : [...builds].reverse())
        await direct({ model, build, threads }, rows);
    if (values.server) await server(model, threads, rows);
  }
}
const single = (row: Row): Row | undefined =>
  rows.find(
    (other) =>
      other.model === row.model &&
      other.build === row.build &&
      other.threads === row.threads &&
      other.path === row.path &&
      other.dispatch === row.dispatch &&
      other.streams === 1,
  );
console.log(
  formatTable(
    [
      "model",
      "engine",
      "threads",
      "path",
      "dispatch",
      "streams",
      "tok/s (median)",
      "× 1 stream",
      "llama_decode calls",
    ],
    rows.map((row) => [
      row.model,
      row.build,
      String(row.threads),
      row.path,
      row.dispatch,
      String(row.streams),
      formatNumber(median(row.tokPerSecond), 0),
      formatNumber(median(row.tokPerSecond) / median(single(row)?.tokPerSecond ?? [Number.NaN]), 2),
      row.decodeCalls.length === 0 ? "–" : formatNumber(median(row.decodeCalls), 0),
    ]),
  ),
);
const splitOf = (row: Row, field: keyof StepSplit): string =>
  formatNumber(median(row.splits.map((split) => split[field]).filter((value) => Number.isFinite(value))), 2);
console.log("\nPer step (direct; medians over steps, then over rounds; ms):");
console.log(
  formatTable(
    [
      "model",
      "engine",
      "threads",
      "dispatch",
      "streams",
      "step",
      "build",
      "decode",
      "→ 1st sample",
      "samples",
      "1 sample",
      "→ next batch",
    ],
    rows
      .filter((row) => row.splits.some((split) => Number.isFinite(split.stepMs)))
      .map((row) => [
        row.model,
        row.build,
        String(row.threads),
        row.dispatch,
        String(row.streams),
        splitOf(row, "stepMs"),
        splitOf(row, "buildMs"),
        splitOf(row, "decodeMs"),
        splitOf(row, "toFirstSampleMs"),
        splitOf(row, "samplesMs"),
        splitOf(row, "sampleCallMs"),
        splitOf(row, "toNextBatchMs"),
      ]),
  ),
);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "batching", latest: "batching-latest.json", startedAt },
  { startedAt, machine, tokens, rounds, uvThreads: values["uv-threads"], rows },
);
console.log(`\nwrote ${path} (smoke figures on a shared machine are indicative only; compare ratios)`);
