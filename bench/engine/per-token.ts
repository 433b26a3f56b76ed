/**
 * `npm run bench:per-token -- [--models stories,134m] [--coalesce-ms 4,0] [--lending on,off] [--baseline DIR] [--rounds 2] [--requests 3] [--tokens 256] [--threads 1] [--short 0] [--idle-ms 1000] [--cpu-prof DIR]`
 *
 * What one streamed token costs outside ggml (issue #17, item 1): starts `node bin/rawrxd.js
 * serve` as a child process — the path users take — streams greedy /v1/completions from this
 * process and reads, per streamed token, from /proc: the server (main) process's CPU time and
 * wake-ups (voluntary context switches) and write syscalls (socket writes + credit messages),
 * the runner's CPU time and write syscalls (its IPC messages), and the client's socket reads;
 * plus decode tok/s and TTFT at the client (wall figures: indicative only on a busy machine).
 * Variants: --stream-coalesce-ms values (the default 4; 0 = one IPC message and one socket write
 * per token, as before ADR 0019) and, with --baseline DIR, the server of another checkout (say
 * the main branch before this work) at its defaults; interleaved blocks, one server per block.
 * With `--lending on,off` each coalescing value runs with --stream-socket-lending on and off
 * (ADR 0056; variants "50:on", "50:off").
 * `--short N` first streams N one-token requests and reports the main process's CPU per request
 * (the fixed per-request part: HTTP, auth, scheduler, audit, request log, one message), and the
 * idle figures are read after them, over `--idle-ms`, with the client's keep-alive connection
 * closed first, so that they are the timers of a server no client is connected to.
 * Prints a table and writes bench/results/per-token-<time>.json and per-token-latest.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nodeFlags, systemTime } from "../../src/core/index.js";
import { completionBody, streamTiming } from "../lib/bench-server.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, modelsDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { ensureServerBuild } from "../lib/server-process.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { childrenOf, counterDelta, readProcessCounters, type ProcessCounters } from "./process-counters.js";

/** A --stream-coalesce-ms value, or "baseline": the server of another checkout (--baseline DIR) at its defaults. */
type CoalesceMs = string;

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories,134m" },
    "coalesce-ms": { type: "string", default: "4,0" },
    /** --stream-socket-lending values to cross with the coalescing values; "" = the server's default. */
    lending: { type: "string", default: "" },
    rounds: { type: "string", default: "2" },
    requests: { type: "string", default: "3" },
    tokens: { type: "string", default: "256" },
    threads: { type: "string", default: "1" },
    baseline: { type: "string" },
    short: { type: "string", default: "0" },
    "idle-ms": { type: "string", default: "1000" },
    /** Writes a V8 CPU profile of each server (main) process into this folder. */
    "cpu-prof": { type: "string" },
  },
});
const models = values.models.split(",") as ModelKey[];
const lendingValues = values.lending === "" ? [] : values.lending.split(",");
const coalesceValues: CoalesceMs[] = [
  ...values["coalesce-ms"]
    .split(",")
    .flatMap((value) =>
      lendingValues.length === 0 ? [value] : lendingValues.map((lend) => `${value}:${lend}`),
    ),
  ...(values.baseline === undefined ? [] : ["baseline"]),
];
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const tokens = Number(values.tokens);
const repoRoot = join(benchDirectory, "..");
const idleMs = Number(values["idle-ms"]);
const shortRequests = Number(values.short);
const prompt =
  "Once upon a time there was a little girl named Lily. She liked to play in the garden with her dog. One day";

interface Block {
  model: ModelKey;
  coalesceMs: CoalesceMs;
  round: number;
  tokens: number;
  main: ProcessCounters;
  runner: ProcessCounters;
  /** The server over `idleMs` with no request, after the model loaded. */
  idle: ProcessCounters;
  clientDataChunks: number;
  /** Main CPU ms per one-token request (--short), NaN without. */
  shortRequestCpuMs: number;
  decodeTokensPerSecond: number;
  timeToFirstTokenMs: number;
}

interface StartedServer {
  child: ChildProcess;
  url: string;
}

async function startServer(coalesceMs: CoalesceMs, home: string): Promise<StartedServer> {
  const isBaseline = coalesceMs === "baseline";
  const root = isBaseline ? values.baseline! : repoRoot;
  if (!isBaseline) ensureServerBuild();
  const child = spawn(
    process.execPath,
    [
      ...(values["cpu-prof"] === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", values["cpu-prof"]]),
      ...nodeFlags,
      join(root, "bin", "rawrxd.js"),
      "serve",
      ...["--home", home, "--models", modelsDirectory, "--host", "127.0.0.1", "--port", "0"],
      ...["--threads", values.threads, "--log-level", "error"],
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        RAWRXD_STREAM_COALESCE_MS: isBaseline ? undefined : coalesceMs.split(":")[0],
        RAWRXD_STREAM_SOCKET_LENDING: isBaseline ? undefined : coalesceMs.split(":")[1],
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match !== null) resolve(match[1]!);
    });
    child.once("exit", (code) =>
      reject(new Error(`The server exited (${code}) before listening: ${stderr}`)),
    );
  });
  return { child, url };
}

async function stopServer(server: StartedServer): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

async function runBlock(
  model: { key: ModelKey; name: string },
  coalesceMs: CoalesceMs,
  round: number,
): Promise<Block> {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-per-token-"));
  const server = await startServer(coalesceMs, home);
  let client = new CompletionStreamClient(server.url);
  try {
    const body = (maxTokens: number) => completionBody({ model: model.name, prompt, maxTokens });
    await client.stream(body(8)); // loads the model: the runner exists from here on
    const [runnerPid] = await childrenOf(server.child.pid!);
    if (runnerPid === undefined) throw new Error("No runner process found under the server.");
    const shortBefore = await readProcessCounters(server.child.pid!);
    for (let index = 0; index < shortRequests; index += 1) await client.stream(body(1));
    const short = counterDelta(await readProcessCounters(server.child.pid!), shortBefore);
    // What the server does with no request at all (timers): part of every per-token figure below.
    // With no client connection either: the keep-alive one is closed first (ADR 0052).
    client.close();
    client = new CompletionStreamClient(server.url);
    const idleBefore = await readProcessCounters(server.child.pid!);
    await systemTime.sleep(idleMs);
    const idle = counterDelta(await readProcessCounters(server.child.pid!), idleBefore);
    const mainBefore = await readProcessCounters(server.child.pid!);
    const runnerBefore = await readProcessCounters(runnerPid);
    const streamed = [];
    for (let index = 0; index < requests; index += 1) streamed.push(await client.stream(body(tokens)));
    const main = counterDelta(await readProcessCounters(server.child.pid!), mainBefore);
    const runner = counterDelta(await readProcessCounters(runnerPid), runnerBefore);
    const timings = streamed.map(streamTiming);
    return {
      model: model.key,
      coalesceMs,
      round,
      tokens: timings.reduce((sum, timing) => sum + timing.completionTokens, 0),
      main,
      runner,
      idle,
      clientDataChunks: streamed.reduce((sum, stream) => sum + stream.dataChunks, 0),
      shortRequestCpuMs: shortRequests === 0 ? Number.NaN : short.cpuMs / shortRequests,
      decodeTokensPerSecond: median(timings.map((timing) => timing.decodeTokensPerSecond)),
      timeToFirstTokenMs: median(timings.map((timing) => timing.timeToFirstTokenMs)),
    };
  } finally {
    client.close();
    await stopServer(server);
    rmSync(home, { recursive: true, force: true });
  }
}

const startedAt = new Date(systemTime.wallNow()).toISOString();
const machine = await describeMachine();
const blocks: Block[] = [];
for (const key of models) {
  const prepared = await prepareModel(key);
  const name = prepared.path.slice(prepared.path.lastIndexOf("/") + 1, -".gguf".length);
  for (let round = 0; round < rounds; round += 1) {
    // Alternate the order each round so neither value always runs first.
    const order = round % 2 === 0 ? coalesceValues : [...coalesceValues].reverse();
    for (const coalesceMs of order) {
      const block = await runBlock({ key, name }, coalesceMs, round);
      blocks.push(block);
      console.error(
        `  ${key} ${coalesceMs} round ${round}: ${block.tokens} tokens, main ${formatNumber(block.main.cpuMs / block.tokens, 3)} ms/token`,
      );
    }
  }
}

interface Row {
  model: ModelKey;
  coalesceMs: CoalesceMs;
  tokens: number;
  mainCpuMsPerToken: number;
  runnerCpuMsPerToken: number;
  mainWakeupsPerToken: number;
  mainWritesPerToken: number;
  runnerWritesPerToken: number;
  clientReadsPerToken: number;
  /** Main CPU per client read (~ per runner message and socket write): steadier than per token under load. */
  mainCpuMsPerClientRead: number;
  /**
   * Main CPU per second of streaming (ms per token × decode tok/s): at a fixed window the
   * messages per token follow the decode rate, this does not (ADR 0048).
   */
  mainCpuMsPerStreamingSecond: number;
  decodeTokensPerSecond: number;
  timeToFirstTokenMs: number;
  idleMainCpuMsPerSecond: number;
  idleMainWakeupsPerSecond: number;
  shortRequestCpuMs: number;
}

const rows: Row[] = [];
for (const key of models) {
  for (const coalesceMs of coalesceValues) {
    const mine = blocks.filter((block) => block.model === key && block.coalesceMs === coalesceMs);
    const perToken = (pick: (block: Block) => number) =>
      median(mine.map((block) => pick(block) / block.tokens));
    rows.push({
      model: key,
      coalesceMs,
      tokens: mine.reduce((sum, block) => sum + block.tokens, 0),
      mainCpuMsPerToken: perToken((block) => block.main.cpuMs),
      runnerCpuMsPerToken: perToken((block) => block.runner.cpuMs),
      mainWakeupsPerToken: perToken((block) => block.main.voluntarySwitches),
      mainWritesPerToken: perToken((block) => block.main.writeSyscalls),
      runnerWritesPerToken: perToken((block) => block.runner.writeSyscalls),
      clientReadsPerToken: perToken((block) => block.clientDataChunks),
      mainCpuMsPerClientRead: median(mine.map((block) => block.main.cpuMs / block.clientDataChunks)),
      mainCpuMsPerStreamingSecond: median(
        mine.map((block) => (block.main.cpuMs / block.tokens) * block.decodeTokensPerSecond),
      ),
      decodeTokensPerSecond: median(mine.map((block) => block.decodeTokensPerSecond)),
      timeToFirstTokenMs: median(mine.map((block) => block.timeToFirstTokenMs)),
      idleMainCpuMsPerSecond: median(mine.map((block) => (block.idle.cpuMs * 1000) / idleMs)),
      idleMainWakeupsPerSecond: median(mine.map((block) => (block.idle.voluntarySwitches * 1000) / idleMs)),
      shortRequestCpuMs: median(mine.map((block) => block.shortRequestCpuMs)),
    });
  }
}

console.log(
  formatTable(
    [
      "model",
      "coalesce ms",
      "tokens",
      "main CPU ms/tok",
      "runner CPU ms/tok",
      "main wake-ups/tok",
      "main writes/tok",
      "runner writes/tok",
      "client reads/tok",
      "main CPU ms/read",
      "main CPU ms/s streaming*",
      "decode tok/s*",
      "TTFT ms*",
      "idle CPU ms/s",
      "idle wake-ups/s",
      "CPU ms/1-token request",
    ],
    rows.map((row) => [
      row.model,
      row.coalesceMs,
      String(row.tokens),
      formatNumber(row.mainCpuMsPerToken, 3),
      formatNumber(row.runnerCpuMsPerToken, 3),
      formatNumber(row.mainWakeupsPerToken, 2),
      formatNumber(row.mainWritesPerToken, 2),
      formatNumber(row.runnerWritesPerToken, 2),
      formatNumber(row.clientReadsPerToken, 2),
      formatNumber(row.mainCpuMsPerClientRead, 2),
      formatNumber(row.mainCpuMsPerStreamingSecond, 1),
      formatNumber(row.decodeTokensPerSecond, 0),
      formatNumber(row.timeToFirstTokenMs, 1),
      formatNumber(row.idleMainCpuMsPerSecond, 1),
      formatNumber(row.idleMainWakeupsPerSecond, 0),
      Number.isNaN(row.shortRequestCpuMs) ? "-" : formatNumber(row.shortRequestCpuMs, 2),
    ]),
  ),
);
console.log(
  "* wall-clock figures: indicative only on a busy machine; CPU and counts are per streamed token.",
);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "per-token", latest: "per-token-latest.json", startedAt },
  {
    startedAt,
    machine,
    settings: {
      models,
      coalesceValues,
      rounds,
      requests,
      tokens,
      threads: values.threads,
      shortRequests,
      idleMs,
    },
    rows,
    blocks,
  },
);
console.error(`Wrote ${path}`);
