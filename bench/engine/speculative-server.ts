/**
 * bench:speculative through the serving path (`--server`): one `rawrxd serve` child per
 * `--speculative` variant, all started before the first round, each sent the same streamed greedy
 * /v1/completions in turn (interleaved: off, auto, … for one workload, then the next), so every
 * ratio pairs requests of the same minute. Drafted and accepted tokens come from the usage chunk.
 * The rate compared is end to end (completion tokens ÷ request → end of stream): the stream
 * coalesces tokens that come fast, so first → last chunk is too coarse for stories260K's ~100 ms
 * answers; the prefill is the same in every variant and only dilutes the ratio. Beside it, the
 * CPU time the runner and the main process spent (/proc schedstat), which other load on a
 * shared machine hardly moves.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { completionBody, streamTiming } from "../lib/bench-server.js";
import type { BenchModel } from "../lib/models.js";
import { modelsDirectory } from "../lib/models.js";
import { ServerProcess } from "../lib/server-process.js";
import { CompletionStreamClient, type StreamedCompletion } from "../lib/sse-client.js";
import { childrenOf, readProcessCounters } from "./process-counters.js";
import { buildCopyWorkload, freeTextPrompt, loopPrompt, type CopyWorkload } from "./copy-workload.js";

export type ServerVariant = "off" | "auto" | "input-lookup";

export interface Sample {
  workload: string;
  variant: ServerVariant;
  round: number;
  /** Completion tokens ÷ request sent → stream end (the same prompt and prefill in every variant). */
  tokensPerSecond: number;
  /** (completion tokens − 1) ÷ first → last chunk with text. */
  decodeTokensPerSecond: number;
  completionTokens: number;
  /**
   * CPU time of the runner and the main process for the request, in ms: what the request cost
   * the machine, far less disturbed by other load than wall time (a quiet machine's wall time
   * at 1 thread is about this).
   */
  cpuMs: number;
  /** The runner's part of cpuMs. */
  runnerCpuMs: number;
  drafted: number;
  accepted: number;
  text: string;
}

interface Usage {
  completion_tokens?: number;
  completion_tokens_details?: { accepted_prediction_tokens: number; rejected_prediction_tokens: number };
}

export function catalogName(model: BenchModel): string {
  return model.key === "stories" ? "stories260K" : "synthetic-llama-134m";
}

function counts(streamed: StreamedCompletion): { drafted: number; accepted: number } {
  const details = (streamed.usage as Usage | undefined)?.completion_tokens_details;
  if (details === undefined) return { drafted: 0, accepted: 0 };
  return {
    drafted: details.accepted_prediction_tokens + details.rejected_prediction_tokens,
    accepted: details.accepted_prediction_tokens,
  };
}

export async function measureThroughServers(options: {
  model: BenchModel;
  threads: number;
  tokens: number;
  rounds: number;
  variants: readonly ServerVariant[];
}): Promise<{ samples: Sample[]; copy: CopyWorkload }> {
  const { model, threads, tokens, rounds, variants } = options;
  const name = catalogName(model);
  const started: {
    variant: ServerVariant;
    server: ServerProcess;
    client: CompletionStreamClient;
    home: string;
  }[] = [];
  try {
    for (const variant of variants) {
      const home = mkdtempSync(join(tmpdir(), "rawrxd-speculative-"));
      const server = await ServerProcess.start({
        home,
        modelsDirectory,
        flags: ["--threads", String(threads), "--speculative", variant, "--log-level", "error"],
        startTimeoutMs: 60_000,
      });
      started.push({ variant, server, client: new CompletionStreamClient(server.url), home });
    }
    const stream = (client: CompletionStreamClient, prompt: string, maxTokens: number) =>
      client.stream(completionBody({ model: name, prompt, maxTokens }));
    // Loads the model in every server before anything is timed.
    for (const { client } of started) await stream(client, "Once", 4);
    const pids = new Map<ServerVariant, number[]>();
    for (const { variant, server } of started)
      pids.set(variant, [server.pid, ...(await childrenOf(server.pid))]);
    /** [main, runner(s)] CPU ms. */
    const cpuMsOf = async (variant: ServerVariant): Promise<[number, number]> => {
      const [main, ...runners] = pids.get(variant)!;
      let runner = 0;
      for (const pid of runners) runner += (await readProcessCounters(pid)).cpuMs;
      return [(await readProcessCounters(main!)).cpuMs, runner];
    };
    const reference = started[0]!.client;
    const copy = await buildCopyWorkload(
      async (prompt, maxTokens) => (await stream(reference, prompt, maxTokens)).text,
      {
        maxTokens: tokens,
      },
    );
    const workloads: Record<string, string> = { copy: copy.prompt, free: freeTextPrompt, loop: loopPrompt };
    const samples: Sample[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const [workload, prompt] of Object.entries(workloads)) {
        // Alternate the order each round so neither variant always runs first.
        const order = round % 2 === 0 ? started : [...started].reverse();
        for (const { variant, client } of order) {
          const cpuBefore = await cpuMsOf(variant);
          const streamed = await stream(client, prompt, tokens);
          const cpuAfter = await cpuMsOf(variant);
          const runnerCpuMs = cpuAfter[1] - cpuBefore[1];
          const cpuMs = cpuAfter[0] - cpuBefore[0] + runnerCpuMs;
          const timing = streamTiming(streamed);
          samples.push({
            workload,
            variant,
            round,
            tokensPerSecond: (timing.completionTokens / timing.totalMs) * 1000,
            decodeTokensPerSecond: timing.decodeTokensPerSecond,
            completionTokens: timing.completionTokens,
            cpuMs,
            runnerCpuMs,
            text: streamed.text,
            ...counts(streamed),
          });
        }
      }
    }
    return { samples, copy };
  } finally {
    for (const { server, client, home } of started) {
      client.close();
      await server.stop(10_000);
      rmSync(home, { recursive: true, force: true });
    }
  }
}
