/**
 * `npm run bench:step-split -- --server`: the fused decode-and-sample call (ADR 0051) and
 * run-ahead decoding (ADR 0055) through RawrXD itself (runner process, IPC, HTTP). Three
 * servers on the local OpenMP build: decode then sample (RAWRXD_BENCH_FUSED_SAMPLE=off, read by
 * the runner when it starts), the fused call alone (RAWRXD_BENCH_RUN_AHEAD=off), and the
 * defaults (fused, running ahead); one greedy stream each, interleaved per round, the order
 * reversed every other round. Reports the decode rate at the client (first to last streamed
 * chunk). With `--streams N` above 1, each server runs `--parallel N` and takes N streams at
 * once, and the rate is their tokens over the wall time from the first request to the last end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningServer } from "../../src/app/index.js";
import { systemTime } from "../../src/core/index.js";
import { completionBody, startBenchServer, streamTiming } from "../lib/bench-server.js";
import { modelsDirectory, type ModelKey } from "../lib/models.js";
import { CompletionStreamClient } from "../lib/sse-client.js";

export const serverVariants = ["decode, then sample", "fused", "run-ahead"] as const;
type ServerVariant = (typeof serverVariants)[number];

/** The benchmark hooks each variant's runner starts with. */
const hooks: Record<ServerVariant, Record<string, string>> = {
  "decode, then sample": { RAWRXD_BENCH_FUSED_SAMPLE: "off" },
  fused: { RAWRXD_BENCH_RUN_AHEAD: "off" },
  "run-ahead": {},
};

export interface ServerSplitRow {
  model: string;
  threads: number;
  variant: ServerVariant;
  tokPerSecond: number[];
}

const prompt =
  "Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak.";

export async function serverSplit(
  key: ModelKey,
  threads: number,
  options: { tokens: number; rounds: number; streams: number },
): Promise<ServerSplitRow[]> {
  const name = key === "stories" ? "stories260K" : "synthetic-llama-134m";
  const servers: {
    row: ServerSplitRow;
    home: string;
    running: RunningServer;
    client: CompletionStreamClient;
  }[] = [];
  try {
    for (const variant of serverVariants) {
      const home = mkdtempSync(join(tmpdir(), "rawrxd-bench-step-split-"));
      const running = await startBenchServer({
        home,
        modelsDirectory,
        flags: {
          threads: String(threads),
          parallel: String(options.streams),
          "context-size": String(2048 * options.streams),
          "engine-build": "openmp",
        },
      });
      const client = new CompletionStreamClient(running.url);
      servers.push({ row: { model: name, threads, variant, tokPerSecond: [] }, home, running, client });
      Object.assign(process.env, hooks[variant]);
      try {
        // Starts the runner (which reads the hook) and warms it.
        await client.stream(completionBody({ model: name, prompt, maxTokens: 8 }));
      } finally {
        for (const name of Object.keys(hooks[variant])) delete process.env[name];
      }
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
        server.row.tokPerSecond.push(
          await measureRate({ url: server.running.url, client: server.client, model: name, ...options }),
        );
      }
    }
  } finally {
    for (const { running, home } of servers) {
      await running.close();
      rmSync(home, { recursive: true, force: true });
    }
  }
  return servers.map((server) => server.row);
}

async function measureRate(options: {
  url: string;
  client: CompletionStreamClient;
  model: string;
  tokens: number;
  streams: number;
}): Promise<number> {
  const { url, client, model } = options;
  const body = completionBody({ model, prompt, maxTokens: options.tokens });
  if (options.streams === 1) return streamTiming(await client.stream(body)).decodeTokensPerSecond;
  const clients = Array.from({ length: options.streams }, () => new CompletionStreamClient(url));
  try {
    const started = systemTime.monotonicNow();
    const streamed = await Promise.all(clients.map((each) => each.stream(body)));
    const seconds = (systemTime.monotonicNow() - started) / 1000;
    return streamed.reduce((sum, each) => sum + (each.usage?.completion_tokens ?? 0), 0) / seconds;
  } finally {
    for (const each of clients) each.close();
  }
}
