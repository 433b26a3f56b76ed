/**
 * The concurrency reference: node-llama-cpp in this process, one context with the same number
 * of sequences, threads and batch size as a runner, N concurrent completions (one
 * LlamaCompletion per sequence, as a library user would write it). What 4 streams can gain over
 * 1 on this machine before any server is involved.
 */
import { LlamaCompletion } from "node-llama-cpp";
import { openDirectContext } from "../lib/direct-engine.js";
import { measureCompletion } from "../serving/direct.js";
import { processCpuMs } from "../lib/machine.js";
import { streamsBlock, type StreamsBlock } from "./report.js";
import { machineCpu, machineCpuShares } from "./server.js";
import { systemTime } from "../../src/core/index.js";

export interface DirectStreamsPlan {
  modelPath: string;
  threads: number;
  contextSize: number;
  parallel: number;
  maxTokens: number;
  rounds: readonly { streams: number; requestsPerStream: number; prompts: readonly string[] }[];
}

export async function runDirectStreams(plan: DirectStreamsPlan): Promise<StreamsBlock[]> {
  const setupStart = systemTime.monotonicNow();
  const { llama, context } = await openDirectContext({
    modelPath: plan.modelPath,
    threads: plan.threads,
    contextSize: plan.contextSize,
    sequences: plan.parallel,
    // As src/engine/runner/model-host.ts creates a runner's context.
    batchSize: Math.min(512, plan.contextSize),
  });
  try {
    const completions = Array.from({ length: plan.parallel }, () => {
      const sequence = context.getSequence();
      return { sequence, completion: new LlamaCompletion({ contextSequence: sequence }) };
    });
    const generate = async (slot: number, prompt: string): Promise<StreamsBlock["samples"][number]> => {
      const sample = await measureCompletion({
        ...completions[slot]!,
        prompt,
        rep: 0,
        block: 0,
        maxTokens: plan.maxTokens,
      });
      return {
        timeToFirstTokenMs: sample.timeToFirstTokenMs,
        decodeTokensPerSecond: sample.decodeTokensPerSecond,
        completionTokens: sample.completionTokens,
        totalMs: sample.totalMs,
      };
    };
    await generate(0, "warm up: the old farmer walked slowly down the dusty road");
    const setupMs = systemTime.monotonicNow() - setupStart;
    const blocks: StreamsBlock[] = [];
    for (const [round, { streams, requestsPerStream, prompts }] of plan.rounds.entries()) {
      const cpuBefore = processCpuMs();
      const machineBefore = await machineCpu();
      const start = systemTime.monotonicNow();
      const results = await Promise.all(
        Array.from({ length: streams }, async (_, stream) => {
          const samples: StreamsBlock["samples"] = [];
          for (let index = 0; index < requestsPerStream; index++)
            samples.push(await generate(stream, prompts[stream * requestsPerStream + index]!));
          return samples;
        }),
      );
      const wallMs = systemTime.monotonicNow() - start;
      blocks.push(
        streamsBlock({
          variant: "direct",
          streams,
          round,
          parallel: plan.parallel,
          threads: plan.threads,
          setupMs,
          wallMs,
          samples: results.flat(),
          cpu: { runnerMs: 0, mainMs: processCpuMs() - cpuBefore },
          machineCpu: machineCpuShares(machineBefore, await machineCpu()),
        }),
      );
    }
    return blocks;
  } finally {
    await llama.dispose();
  }
}
