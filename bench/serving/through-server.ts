/**
 * Variant 2: the same generation through RawrXD: startServer in this process (its runner is a
 * child process), then streamed POST /v1/completions measured from the client side.
 */
import { basename, dirname } from "node:path";
import type { RunningServer } from "../../src/app/index.js";
import { systemTime } from "../../src/core/index.js";
import { completionBody, startBenchServer, streamTiming } from "../lib/bench-server.js";
import { otherProcessCpuMs, processCpuMs, soleChildProcessId } from "../lib/machine.js";
import { sumTokens, type BlockPlan, type BlockResult, type GenerationSample } from "../lib/samples.js";
import { CompletionStreamClient } from "../lib/sse-client.js";

export interface ServerBlockPlan extends BlockPlan {
  /** RAWRXD_HOME for the bench server (no config.json is read from it). */
  home: string;
}

export async function runServerBlock(plan: ServerBlockPlan): Promise<BlockResult> {
  const setupStart = systemTime.monotonicNow();
  const server = await startBenchServer({
    home: plan.home,
    modelsDirectory: dirname(plan.modelPath),
    flags: {
      threads: String(plan.threads),
      parallel: "1",
      "context-size": String(plan.contextSize),
      "max-loaded-models": "1",
      // The same llama.cpp build as the direct variant: this suite measures the serving path, and a
      // different build (the local OpenMP one) would change both speed and greedy text.
      "engine-build": "prebuilt",
    },
  });
  const client = new CompletionStreamClient(server.url);
  const marks = new ServerMarks(server);
  try {
    const modelName = basename(plan.modelPath, ".gguf");
    let requestCount = 0;
    const generate = (prompt: string, rep: number): Promise<GenerationSample> =>
      measureStream({
        client,
        marks,
        requestId: `bench-${plan.block}-${requestCount++}`,
        modelName,
        prompt,
        rep,
        block: plan.block,
        maxTokens: plan.maxTokens,
      });
    // The first request loads the model in a fresh runner process.
    const warmup = await generate(plan.warmupPrompt, -1);
    const setupMs = systemTime.monotonicNow() - setupStart - warmup.totalMs + warmup.timeToFirstTokenMs;
    const runnerPid = await soleChildProcessId();
    const samples: GenerationSample[] = [];
    const benchCpuBefore = processCpuMs();
    const runnerCpuBefore = await otherProcessCpuMs(runnerPid);
    for (const { rep, prompt } of plan.prompts) samples.push(await generate(prompt, rep));
    const cpu = {
      benchProcessMs: processCpuMs() - benchCpuBefore,
      runnerProcessMs: (await otherProcessCpuMs(runnerPid)) - runnerCpuBefore,
      completionTokens: sumTokens(samples),
    };
    return { variant: "server", block: plan.block, setupMs, warmup, samples, cpu };
  } finally {
    marks.stop();
    client.close();
    // Ends the runner process (and its threads) before the next block starts.
    await server.close();
  }
}

/** When the server's own events fired, per request id (listeners run synchronously in this process). */
class ServerMarks {
  readonly queuedAt = new Map<string, number>();
  readonly firstTokenAt = new Map<string, number>();
  readonly #unsubscribe: (() => void)[];

  constructor(server: RunningServer) {
    this.#unsubscribe = [
      server.events.on("request-queued", ({ requestId }) =>
        this.queuedAt.set(requestId, systemTime.monotonicNow()),
      ),
      server.events.on("first-token", ({ requestId }) =>
        this.firstTokenAt.set(requestId, systemTime.monotonicNow()),
      ),
    ];
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }
}

interface MeasureOptions {
  client: CompletionStreamClient;
  marks: ServerMarks;
  requestId: string;
  modelName: string;
  prompt: string;
  rep: number;
  block: number;
  maxTokens: number;
}

async function measureStream(options: MeasureOptions): Promise<GenerationSample> {
  const streamed = await options.client.stream(
    completionBody({ model: options.modelName, prompt: options.prompt, maxTokens: options.maxTokens }),
    { "X-Request-Id": options.requestId },
  );
  const { usage, sentAt } = streamed;
  const sinceSent = (at: number | undefined): number => (at === undefined ? Number.NaN : at - sentAt);
  return {
    variant: "server",
    block: options.block,
    rep: options.rep,
    prompt: options.prompt,
    ...streamTiming(streamed),
    promptTokens: usage?.prompt_tokens ?? Number.NaN,
    cachedPromptTokens: usage?.prompt_tokens_details?.cached_tokens ?? Number.NaN,
    contentChunks: streamed.contentChunks,
    serverQueuedMs: sinceSent(options.marks.queuedAt.get(options.requestId)),
    serverFirstTokenEventMs: sinceSent(options.marks.firstTokenAt.get(options.requestId)),
    text: streamed.text,
  };
}
