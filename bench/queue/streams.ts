/**
 * Concurrency: one model with --parallel 4 on one warm runner, 1 stream vs 4 concurrent streams
 * with the same prompts and max_tokens, blocks in the order 1, 4, 4, 1; then the same through
 * node-llama-cpp in this process (bench/queue/direct.ts), the engine's ceiling on this machine.
 */
import { join } from "node:path";
import { waitForNoChildProcesses } from "../lib/machine.js";
import { runDirectStreams } from "./direct.js";
import { streamsBlock, type StreamsBlock } from "./report.js";
import { makeSchedule } from "./schedule.js";
import { machineCpuShares, readCpu, runnerPids, startQueueServer, warmUp } from "./server.js";
import { completionBody } from "../lib/bench-server.js";
import { queueSettings } from "./settings.js";
import { decodeRate } from "../lib/samples.js";
import { CompletionStreamClient, type StreamedCompletion } from "../lib/sse-client.js";
import { systemTime } from "../../src/core/index.js";

const childExitTimeoutMs = 10_000;
const roundWords = ["north", "east", "south", "west", "up", "down", "left", "right"];

export interface StreamsPlan {
  modelsDir: string;
  home: string;
  log: (line: string) => void;
}

/** A block's prompts: the same for 1 and 4 streams, with a new first word per block. */
function streamPrompts(round: number, count: number): string[] {
  const model = queueSettings.mixedModels[0]!;
  const plans = makeSchedule({
    seed: queueSettings.concurrency.seed,
    models: [model],
    length: count,
    maxTokens: queueSettings.concurrency.maxTokens,
  }).get(model)!;
  // A sequence's cache from an earlier block then shares only the BOS token with the new prompt.
  return plans.map((request) => `${roundWords[round % roundWords.length]!}, ${request.prompt}`);
}

function logBlock(log: (line: string) => void, block: StreamsBlock, rounds: number): void {
  log(
    `  ${block.variant} ${block.streams} stream(s) (round ${block.round + 1}/${rounds}): ${block.completionTokens} tokens in ${(block.wallMs / 1000).toFixed(1)} s = ${block.aggregateTokensPerSecond.toFixed(1)} tok/s`,
  );
}

function sampleOf(result: StreamedCompletion): StreamsBlock["samples"][number] {
  const tokens = result.usage?.completion_tokens ?? Number.NaN;
  const firstToLast =
    result.firstContentAt === undefined || result.lastContentAt === undefined
      ? Number.NaN
      : result.lastContentAt - result.firstContentAt;
  return {
    timeToFirstTokenMs:
      result.firstContentAt === undefined ? Number.NaN : result.firstContentAt - result.sentAt,
    decodeTokensPerSecond: decodeRate(tokens, firstToLast),
    completionTokens: tokens,
    totalMs: result.endedAt - result.sentAt,
  };
}

export async function runStreams(plan: StreamsPlan): Promise<StreamsBlock[]> {
  const { concurrency } = queueSettings;
  const model = queueSettings.mixedModels[0]!;
  const setupStart = systemTime.monotonicNow();
  const server = await startQueueServer({
    home: plan.home,
    modelsDir: plan.modelsDir,
    threads: queueSettings.threads,
    parallel: concurrency.parallel,
    contextSize: queueSettings.contextSize,
    maxLoadedModels: 1,
    policy: "priority",
    isPreemptionEnabled: true,
  });
  const blocks: StreamsBlock[] = [];
  try {
    await warmUp(server, model, "warm-streams");
    const setupMs = systemTime.monotonicNow() - setupStart;
    const pids = runnerPids(server);
    for (const [round, streams] of concurrency.order.entries()) {
      const requests = concurrency.requestsPerStream[streams]!;
      const prompts = streamPrompts(round, streams * requests);
      const clients = Array.from({ length: streams }, () => new CompletionStreamClient(server.url));
      const cpuBefore = await readCpu(pids);
      const start = systemTime.monotonicNow();
      try {
        const results = await Promise.all(
          clients.map(async (client, stream) => {
            const done: StreamedCompletion[] = [];
            for (let index = 0; index < requests; index++) {
              const prompt = prompts[stream * requests + index]!;
              done.push(
                await client.stream(completionBody({ model, prompt, maxTokens: concurrency.maxTokens }), {
                  "X-Request-Id": `s${round}-${stream}-${index}`,
                }),
              );
            }
            return done;
          }),
        );
        const wallMs = systemTime.monotonicNow() - start;
        const cpuAfter = await readCpu(pids);
        const block = streamsBlock({
          variant: "server",
          streams,
          round,
          parallel: concurrency.parallel,
          threads: server.queue.snapshot().loaded[0]?.info.threads ?? queueSettings.threads,
          setupMs,
          wallMs,
          samples: results.flat().map(sampleOf),
          cpu: {
            runnerMs: cpuAfter.runnerMs - cpuBefore.runnerMs,
            mainMs: cpuAfter.mainMs - cpuBefore.mainMs,
          },
          machineCpu: machineCpuShares(cpuBefore.machine, cpuAfter.machine),
        });
        blocks.push(block);
        logBlock(plan.log, block, concurrency.order.length);
      } finally {
        for (const client of clients) client.close();
      }
    }
  } finally {
    await server.close();
    await waitForNoChildProcesses(childExitTimeoutMs);
  }
  const direct = await runDirectStreams({
    modelPath: join(plan.modelsDir, `${model}.gguf`),
    threads: queueSettings.threads,
    contextSize: queueSettings.contextSize,
    parallel: concurrency.parallel,
    maxTokens: concurrency.maxTokens,
    rounds: concurrency.directOrder.map((streams, round) => {
      const requests = concurrency.directRequestsPerStream[streams]!;
      return {
        streams,
        requestsPerStream: requests,
        prompts: streamPrompts(concurrency.order.length + round, streams * requests),
      };
    }),
  });
  for (const block of direct) {
    blocks.push(block);
    logBlock(plan.log, block, concurrency.directOrder.length);
  }
  await waitForNoChildProcesses(childExitTimeoutMs);
  return blocks;
}
