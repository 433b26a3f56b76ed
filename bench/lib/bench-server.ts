/**
 * What every suite that measures through RawrXD shares: a server started in this process (its
 * runners are child processes), the streamed greedy completion it is sent, and the timings read
 * from that stream at the client.
 */
import { startServer, type RunningServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger } from "../../src/core/index.js";
import { decodeRate } from "./samples.js";
import type { StreamedCompletion } from "./sse-client.js";

export interface BenchServerOptions {
  /** RAWRXD_HOME for the bench server (no config.json is read from it). */
  home: string;
  modelsDirectory: string;
  /** Settings flags of the suite (threads, parallel, context-size, …); they win over the shared ones. */
  flags: Readonly<Record<string, string>>;
}

/** On 127.0.0.1, a free port, errors-only logging, no signal handlers: the bench owns the process. */
export async function startBenchServer(options: BenchServerOptions): Promise<RunningServer> {
  const config = loadConfig({
    flags: {
      home: options.home,
      models: options.modelsDirectory,
      host: "127.0.0.1",
      port: "0",
      "log-level": "error",
      ...options.flags,
    },
    env: {},
    readConfigFile: false,
  });
  return startServer(config, { logger: silentLogger, handleSignals: false });
}

/** A streamed, greedy POST /v1/completions body with usage in the last chunk. */
export function completionBody(fields: {
  model: string;
  prompt: string;
  maxTokens: number;
}): Record<string, unknown> {
  return {
    model: fields.model,
    prompt: fields.prompt,
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
    max_tokens: fields.maxTokens,
  };
}

export interface StreamTiming {
  /** Request sent to the first chunk with text. */
  timeToFirstTokenMs: number;
  /** First to last chunk with text. */
  firstToLastMs: number;
  /** Request sent to the end of the stream. */
  totalMs: number;
  /** From the usage chunk; NaN when the server sent none. */
  completionTokens: number;
  /** (completion tokens − 1) ÷ first → last. */
  decodeTokensPerSecond: number;
}

export function streamTiming(streamed: StreamedCompletion): StreamTiming {
  const { firstContentAt, lastContentAt, sentAt } = streamed;
  const completionTokens = streamed.usage?.completion_tokens ?? Number.NaN;
  const firstToLastMs =
    firstContentAt === undefined || lastContentAt === undefined ? Number.NaN : lastContentAt - firstContentAt;
  return {
    timeToFirstTokenMs: firstContentAt === undefined ? Number.NaN : firstContentAt - sentAt,
    firstToLastMs,
    totalMs: streamed.endedAt - sentAt,
    completionTokens,
    decodeTokensPerSecond: decodeRate(completionTokens, firstToLastMs),
  };
}
