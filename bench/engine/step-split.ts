/**
 * `npm run bench:step-split -- [--models 134m,stories] [--threads 1,2] [--tokens 128] [--rounds 3] [--build prebuilt,openmp] [--server [--streams 4]] [--uv-threads 1]`
 *
 * Where one greedy stream's time per token goes outside llama_decode (issue #17 item 1, ADR 0051):
 * node-llama-cpp in this process, opened and wrapped the way a runner does it (batch size
 * min(512, context), RawrXD's sample gate and decode gatherer), the addon's calls timed through a
 * proxy. Each token splits into the native decode (call → promise settled on the main thread),
 * the sample hop (`sampleToken` call → settled; 0 with the fused call, which samples inside the
 * decode) and the rest (JavaScript between decodes). CPU ms per token counts every thread of
 * this process (/proc schedstat), "main CPU" the JavaScript thread alone. On a build whose addon
 * has `decodeBatchAndSample` (npm run engine:build), the fused call on and off
 * (`context.rawrxdFusedSample`) run interleaved in each round, side by side, the order reversed
 * every other round. Prints a table, writes bench/results/step-split-*.json. With --server, the
 * fused call and run-ahead on and off through three RawrXD servers instead (step-split-server.ts).
 */
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";
import { systemTime } from "../../src/core/index.js";
import { hasOpenmpBuild } from "../../src/engine/index.js";
import { DecodeGather } from "../../src/engine/runner/decode-gather.js";
import { installSampleGate } from "../../src/engine/runner/sample-gate.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { readProcessCounters } from "./process-counters.js";
import { serverSplit, type ServerSplitRow } from "./step-split-server.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "134m,stories" },
    threads: { type: "string", default: "1,2" },
    tokens: { type: "string", default: "128" },
    rounds: { type: "string", default: "3" },
    build: { type: "string", default: "prebuilt,openmp" },
    server: { type: "boolean", default: false },
    streams: { type: "string", default: "1" },
    "uv-threads": { type: "string", default: "1" },
  },
});
// The runner runs with one libuv worker (runner-process.ts): every decode then starts on the same
// OS thread. With libuv's default 4, decodes hop between threads and each becomes a new ggml /
// OpenMP caller: 134M at 2 threads ran at about half the rate (ADR 0051). The pool size is read
// at the pool's first use, so the probe runs itself again with it set.
if (process.env["UV_THREADPOOL_SIZE"] !== values["uv-threads"]) {
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: values["uv-threads"] },
    stdio: "inherit",
  });
  process.exit(again.status ?? 1);
}
const startedAt = new Date(systemTime.wallNow()).toISOString();
const tokens = Number(values.tokens);
const rounds = Number(values.rounds);
const streams = Number(values.streams);
if (!Number.isInteger(streams) || streams < 1)
  throw new Error(
    `--streams takes a whole number of concurrent streams, 1 or more; got "${values.streams}".`,
  );
const prompt =
  "Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak.";

/** Wall time of the addon calls of one context, summed over a window. */
class CallClock {
  decodeMs = 0;
  decodes = 0;
  sampleMs = 0;
  samples = 0;
  fusedCalls = 0;

  constructor(context: LlamaContext) {
    const internal = context as unknown as { _ctx: Record<string | symbol, unknown> };
    const timed = (name: "decode" | "sample", call: () => unknown): unknown => {
      const startedMs = systemTime.monotonicNow();
      const result = call() as Promise<unknown>;
      return result.then((value) => {
        const ms = systemTime.monotonicNow() - startedMs;
        if (name === "decode") {
          this.decodeMs += ms;
          this.decodes += 1;
        } else {
          this.sampleMs += ms;
          this.samples += 1;
        }
        return value;
      });
    };
    // Wrappers made once: the proxy itself must not add per-token work to what it measures.
    const wrappers = new Map<string | symbol, unknown>();
    const target = internal._ctx;
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(target))) {
      const value = target[name];
      if (typeof value === "function") wrappers.set(name, (value as () => unknown).bind(target));
    }
    const call = (name: string): ((...args: unknown[]) => unknown) =>
      wrappers.get(name) as (...args: unknown[]) => unknown;
    const decodeBatch = call("decodeBatch");
    const sampleToken = call("sampleToken");
    const decodeBatchAndSample = call("decodeBatchAndSample");
    wrappers.set("decodeBatch", () => timed("decode", () => decodeBatch()));
    wrappers.set("sampleToken", (...args: unknown[]) => timed("sample", () => sampleToken(...args)));
    if (decodeBatchAndSample !== undefined)
      wrappers.set("decodeBatchAndSample", (...args: unknown[]) => {
        this.fusedCalls += 1;
        return timed("decode", () => decodeBatchAndSample(...args));
      });
    internal._ctx = new Proxy(target, {
      get: (object, property) => (wrappers.has(property) ? wrappers.get(property) : object[property]),
    });
  }

  reset(): void {
    this.decodeMs = this.sampleMs = 0;
    this.decodes = this.samples = this.fusedCalls = 0;
  }
}

interface Sample {
  tokPerSecond: number;
  wallMs: number;
  decodeMs: number;
  sampleMs: number;
  otherMs: number;
  cpuMs: number;
  /** CPU time of the main (JavaScript) thread alone. */
  mainCpuMs: number;
  fusedCalls: number;
  text: string;
}

/** The main thread's CPU time (its task id is the process id): the JavaScript, not the workers. */
async function mainThreadCpuMs(): Promise<number> {
  const schedstat = await readFile(`/proc/${process.pid}/task/${process.pid}/schedstat`, "utf8");
  return Number(schedstat.split(" ")[0]) / 1e6;
}

async function generate(
  sequence: LlamaContextSequence,
  promptTokens: Token[],
  clock: CallClock,
): Promise<Sample> {
  await sequence.clearHistory();
  const produced: Token[] = [];
  let firstAt = 0;
  let cpuAtFirst = 0;
  let mainAtFirst = 0;
  for await (const token of sequence.evaluate(promptTokens, { temperature: 0 })) {
    produced.push(token);
    if (produced.length === 1) {
      // The prompt's decode is not a per-token cost: the window starts at the first token.
      clock.reset();
      cpuAtFirst = (await readProcessCounters(process.pid)).cpuMs;
      mainAtFirst = await mainThreadCpuMs();
      firstAt = systemTime.monotonicNow();
    }
    if (produced.length > tokens) break;
  }
  const wallMs = systemTime.monotonicNow() - firstAt;
  const cpuMs = (await readProcessCounters(process.pid)).cpuMs - cpuAtFirst;
  const mainCpuMs = (await mainThreadCpuMs()) - mainAtFirst;
  const steps = produced.length - 1;
  return {
    tokPerSecond: (steps / wallMs) * 1000,
    wallMs: wallMs / steps,
    decodeMs: clock.decodeMs / Math.max(1, clock.decodes),
    sampleMs: clock.samples === 0 ? 0 : clock.sampleMs / clock.samples,
    otherMs: (wallMs - clock.decodeMs - clock.sampleMs) / steps,
    cpuMs: cpuMs / steps,
    mainCpuMs: mainCpuMs / steps,
    fusedCalls: clock.fusedCalls,
    text: sequence.model.detokenize(produced),
  };
}

interface Row {
  model: string;
  build: string;
  threads: number;
  variant: string;
  samples: Sample[];
}

if (values.server) {
  if (!hasOpenmpBuild()) {
    console.error(
      "--server compares the fused call and run-ahead on and off: it needs the local build (npm run engine:build).",
    );
    process.exit(1);
  }
  const serverRows: ServerSplitRow[] = [];
  for (const key of values.models.split(",") as ModelKey[]) {
    await prepareModel(key);
    for (const threads of values.threads.split(",").map(Number))
      serverRows.push(...(await serverSplit(key, threads, { tokens, rounds, streams })));
  }
  const stock = (row: ServerSplitRow): ServerSplitRow =>
    serverRows.find(
      (other) =>
        other.model === row.model && other.threads === row.threads && other.variant === "decode, then sample",
    )!;
  // Paired per round: each round ran every variant back to back.
  const pairedRatio = (row: ServerSplitRow): number =>
    median(row.tokPerSecond.map((rate, round) => rate / stock(row).tokPerSecond[round]!));
  console.log(
    formatTable(
      ["model", "threads", "variant", "tok/s (median)", "per round", "÷ decode, then sample (paired)"],
      serverRows.map((row) => [
        row.model,
        String(row.threads),
        row.variant,
        formatNumber(median(row.tokPerSecond), 1),
        row.tokPerSecond.map((rate) => formatNumber(rate, 0)).join(" "),
        row.variant === "decode, then sample" ? "" : formatNumber(pairedRatio(row), 3),
      ]),
    ),
  );
  const path = await writeResultFiles(
    join(benchDirectory, "results"),
    { prefix: "step-split-server", latest: "step-split-server-latest.json", startedAt },
    { startedAt, machine: await describeMachine(), tokens, rounds, rows: serverRows },
  );
  console.log(`wrote ${path}`);
  process.exit(0);
}

const rows: Row[] = [];
let mismatches = 0;
for (const key of values.models.split(",") as ModelKey[]) {
  const model = await prepareModel(key);
  for (const build of values.build.split(",") as ("prebuilt" | "openmp")[]) {
    if (build === "openmp" && !hasOpenmpBuild()) {
      console.error(`No OpenMP build (npm run engine:build): skipping build ${build}.`);
      continue;
    }
    for (const threads of values.threads.split(",").map(Number)) {
      const contextSize = 2048;
      const { llama, context } = await openDirectContext({
        modelPath: model.path,
        threads,
        contextSize,
        sequences: 1,
        batchSize: Math.min(512, contextSize),
        build,
      });
      installSampleGate(context);
      const gather = new DecodeGather(context);
      gather.join();
      const clock = new CallClock(context);
      const hasFused =
        typeof (context as unknown as { _ctx: { decodeBatchAndSample?: unknown } })._ctx
          .decodeBatchAndSample === "function";
      const variants = hasFused ? [false, true] : [false];
      const byVariant = new Map<string, Row>();
      const sequence = context.getSequence();
      const promptTokens = context.model.tokenize(prompt);
      await generate(sequence, promptTokens, clock); // warm-up
      for (let round = 0; round < rounds; round++) {
        for (const isFused of round % 2 === 0 ? variants : [...variants].reverse()) {
          (context as unknown as { rawrxdFusedSample?: boolean }).rawrxdFusedSample = isFused;
          const name = isFused ? "fused" : "decode, then sample";
          const sample = await generate(sequence, promptTokens, clock);
          const row = byVariant.get(name) ?? {
            model: model.label,
            build,
            threads,
            variant: name,
            samples: [],
          };
          byVariant.set(name, row);
          row.samples.push(sample);
          if (sample.text !== byVariant.values().next().value?.samples[0]?.text) mismatches += 1;
        }
      }
      rows.push(...byVariant.values());
      await llama.dispose();
    }
  }
}

const at = (row: Row, field: keyof Omit<Sample, "text">): number => median(row.samples.map((s) => s[field]));
console.log(
  formatTable(
    [
      "model",
      "build",
      "threads",
      "variant",
      "tok/s",
      "wall ms/tok",
      "decode ms",
      "sample ms",
      "other ms",
      "CPU ms/tok",
      "main CPU ms/tok",
      "fused calls",
    ],
    rows.map((row) => [
      row.model,
      row.build,
      String(row.threads),
      row.variant,
      formatNumber(at(row, "tokPerSecond"), 1),
      formatNumber(at(row, "wallMs"), 3),
      formatNumber(at(row, "decodeMs"), 3),
      formatNumber(at(row, "sampleMs"), 3),
      formatNumber(at(row, "otherMs"), 3),
      formatNumber(at(row, "cpuMs"), 3),
      formatNumber(at(row, "mainCpuMs"), 3),
      String(at(row, "fusedCalls")),
    ]),
  ),
);
console.log(`Greedy text differing from the first variant's: ${mismatches} runs (must be 0).`);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "step-split", latest: "step-split-latest.json", startedAt },
  {
    startedAt,
    machine: await describeMachine(),
    tokens,
    rounds,
    rows: rows.map((row) => ({ ...row, samples: row.samples.map(({ text: _text, ...rest }) => rest) })),
    mismatches,
  },
);
console.log(`wrote ${path} (figures on a shared machine are indicative only; compare the variants' ratios)`);
process.exit(mismatches === 0 ? 0 : 1);
