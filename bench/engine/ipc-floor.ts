/**
 * `npm run bench:ipc-floor -- [--intervals 1,5,10,20,50,100 ("" = none)] [--variants all] [--rounds 2] [--duration-ms 2000] [--warmup 10] [--requests 200] [--rawrxd DIR,...]`
 *
 * The per-message floor of a Node "main" process (issue #17, item 1; ADR 0054): a bare server
 * process that receives one message from a child ("runner") and writes one SSE frame to an
 * HTTP client, with none of RawrXD's code — what any design that forwards runner messages in
 * JavaScript pays per message. Variants show what could lower it (ipc-floor-variants.ts): Node's
 * IPC channel with JSON (RawrXD today) or the V8 serializer, a unix domain socket with JSON
 * lines or with ready frame bytes, one raw TCP write of the received bytes, and the client's
 * socket handed over to the child (the main process off the per-message path).
 *
 * Measure as bench:per-token's "main CPU ms/read": the server process's CPU (all threads,
 * /proc/PID/task/*\/schedstat) over the stream after `--warmup` messages, ÷ messages (each
 * message is one client read here), plus its wake-ups (voluntary context switches) per message.
 * Each block is a fresh server process; variants interleave, their order alternating by round.
 * Then the one-token request floor (ipc-floor-requests.ts): a bare server's CPU per streamed
 * one-token request (`--requests` per round; 0 skips it), beside `rawrxd serve` of the
 * `--rawrxd` checkouts (say this one and a baseline) in the same rounds.
 * Prints a table and writes bench/results/ipc-floor-<time>.json and ipc-floor-latest.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { get } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { floorVariants, variantDescriptions, type FloorVariant } from "./ipc-floor-variants.js";
import { requestBlock, startRequestServers, stopRequestServers } from "./ipc-floor-requests.js";
import { counterDelta, readProcessCounters, type ProcessCounters } from "./process-counters.js";

const { values } = parseArgs({
  options: {
    intervals: { type: "string", default: "1,5,10,20,50,100" },
    variants: { type: "string", default: "all" },
    rounds: { type: "string", default: "2" },
    "duration-ms": { type: "string", default: "2000" },
    warmup: { type: "string", default: "10" },
    requests: { type: "string", default: "200" },
    rawrxd: { type: "string", default: "" },
  },
});
const intervals = values.intervals
  .split(",")
  .filter((interval) => interval.length > 0)
  .map(Number);
const variants = (values.variants === "all" ? floorVariants : values.variants.split(",")) as FloorVariant[];
const rounds = Number(values.rounds);
const durationMs = Number(values["duration-ms"]);
const warmup = Number(values.warmup);
const requests = Number(values.requests);
const rawrxdDirectories = values.rawrxd.split(",").filter((directory) => directory.length > 0);
const serverPath = fileURLToPath(new URL("./ipc-floor-server.ts", import.meta.url));

interface Block {
  variant: FloorVariant;
  intervalMs: number;
  round: number;
  messages: number;
  server: ProcessCounters;
  clientReads: number;
}

function startServer(variant: FloorVariant, count: number, intervalMs: number) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", serverPath, variant, String(count), String(intervalMs)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = new Promise<number>((resolve, reject) => {
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
      const match = /listening (\d+)/.exec(output);
      if (match !== null) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`The floor server (${variant}) exited (${code}) early.`)));
  });
  return { child, port };
}

/** Streams one response; reads the server's counters after `warmup` frames and at the end. */
async function runBlock(variant: FloorVariant, intervalMs: number, round: number): Promise<Block> {
  const count = warmup + Math.max(20, Math.min(1000, Math.round(durationMs / intervalMs)));
  const { child, port } = startServer(variant, count, intervalMs);
  const pid = child.pid!;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const url = `http://127.0.0.1:${await port}/`;
    return await new Promise<Block>((resolve, reject) => {
      let frames = 0;
      let reads = 0;
      let before: Promise<{ counters: ProcessCounters; frames: number; reads: number }> | undefined;
      const request = get(url, { agent: false }, (response) => {
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          frames += chunk.split("data: ").length - 1;
          reads += 1;
          if (before === undefined && frames >= warmup)
            before = readProcessCounters(pid).then((counters) => ({ counters, frames, reads }));
        });
        response.on("end", () => {
          void (async () => {
            const after = await readProcessCounters(pid);
            const start = await before!;
            resolve({
              variant,
              intervalMs,
              round,
              messages: frames - start.frames,
              server: counterDelta(after, start.counters),
              clientReads: reads - start.reads,
            });
          })().catch(reject);
        });
      });
      request.on("error", reject);
    });
  } finally {
    killIfRunning(child);
    await exited;
  }
}

function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
}

const startedAt = new Date(systemTime.wallNow()).toISOString();
const machine = await describeMachine();
const blocks: Block[] = [];
for (let round = 0; round < rounds; round += 1) {
  for (const intervalMs of intervals) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      const block = await runBlock(variant, intervalMs, round);
      blocks.push(block);
      console.error(
        `  round ${round} ${intervalMs} ms ${variant}: ${block.messages} messages, ${formatNumber(block.server.cpuMs / block.messages, 3)} ms/message`,
      );
    }
  }
}

interface Row {
  variant: FloorVariant;
  intervalMs: number;
  messages: number;
  cpuMsPerMessage: number;
  wakeupsPerMessage: number;
  clientReadsPerMessage: number;
}
const rows: Row[] = [];
for (const variant of variants)
  for (const intervalMs of intervals) {
    const mine = blocks.filter((block) => block.variant === variant && block.intervalMs === intervalMs);
    rows.push({
      variant,
      intervalMs,
      messages: mine.reduce((sum, block) => sum + block.messages, 0),
      cpuMsPerMessage: median(mine.map((block) => block.server.cpuMs / block.messages)),
      wakeupsPerMessage: median(mine.map((block) => block.server.voluntarySwitches / block.messages)),
      clientReadsPerMessage: median(mine.map((block) => block.clientReads / block.messages)),
    });
  }

const cell = (variant: FloorVariant, intervalMs: number): string => {
  const row = rows.find((entry) => entry.variant === variant && entry.intervalMs === intervalMs)!;
  return `${formatNumber(row.cpuMsPerMessage, 3)} (${formatNumber(row.wakeupsPerMessage, 1)})`;
};
if (intervals.length > 0) printMessageTable();
function printMessageTable(): void {
  console.log(
    formatTable(
      ["variant", ...intervals.map((intervalMs) => `${intervalMs} ms`)],
      variants.map((variant) => [variant, ...intervals.map((intervalMs) => cell(variant, intervalMs))]),
    ),
  );
  console.log(
    "Main (server) process CPU ms per message (wake-ups per message), by message interval; medians of " +
      `${rounds} round(s).`,
  );
  for (const variant of variants) console.log(`  ${variant}: ${variantDescriptions[variant]}`);
}
type RequestRow = Awaited<ReturnType<typeof requestBlock>>[number];
const requestBlocks: RequestRow[] = [];
if (requests > 0) {
  const servers = await startRequestServers(rawrxdDirectories);
  try {
    await requestBlock(servers, Math.max(20, Math.round(requests / 2)), 0); // warm-up: JIT, model load
    for (let round = 0; round < rounds; round += 1) {
      const block = await requestBlock(servers, requests, round);
      requestBlocks.push(...block);
      console.error(
        `  requests round ${round}: ${block.map((row) => `${row.server} ${formatNumber(row.cpuMsPerRequest, 3)}`).join(", ")} ms`,
      );
    }
  } finally {
    await stopRequestServers(servers);
  }
  const names = [...new Set(requestBlocks.map((row) => row.server))];
  console.log(
    formatTable(
      ["one-token request: server", "main CPU ms/request", "wake-ups/request", "per round"],
      names.map((name) => {
        const mine = requestBlocks.filter((row) => row.server === name);
        return [
          name,
          formatNumber(median(mine.map((row) => row.cpuMsPerRequest)), 3),
          formatNumber(median(mine.map((row) => row.wakeupsPerRequest)), 1),
          mine.map((row) => formatNumber(row.cpuMsPerRequest, 2)).join(" / "),
        ];
      }),
    ),
  );
  console.log(
    "request: bare Node http + IPC round trip; request-audit: + one line written and fdatasynced (libuv pool) " +
      "before the end; request-audit-sync: the same fdatasync on the main thread.",
  );
}
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "ipc-floor", latest: "ipc-floor-latest.json", startedAt },
  {
    startedAt,
    machine,
    settings: { intervals, variants, rounds, durationMs, warmup, requests, rawrxdDirectories },
    variantDescriptions,
    rows,
    blocks,
    requestBlocks,
  },
);
console.error(`Wrote ${path}`);
