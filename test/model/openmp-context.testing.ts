/**
 * A stories260K context on the prebuilt binary or the local OpenMP build (`npm run
 * engine:build`), and a counter of the fused native call: shared by the tests of the addon
 * patches only that build compiles (ADR 0051, 0055).
 */
import { getLlama, LlamaLogLevel, type LlamaContext } from "node-llama-cpp";
import { hasOpenmpBuild, openmpBuildOptions } from "../../src/engine/index.js";
import { DecodeGather } from "../../src/engine/runner/decode-gather.js";
import { installSampleGate } from "../../src/engine/runner/sample-gate.js";
import { storiesPath } from "./helpers.js";

export const isBuilt = hasOpenmpBuild();
/** The title of the cases that need the build: CI has none, and says why they are skipped. */
export const onBuildTitle = `on the local OpenMP build (${isBuilt ? "built" : "skipped: no build here, run npm run engine:build"})`;

export interface Flags {
  rawrxdFusedSample?: boolean;
  _ctx: { decodeBatchAndSample?: unknown; rawrxdSetRunAheadEpoch?: (epoch: number) => void };
}

export async function openContext(
  build: "prebuilt" | "openmp",
): Promise<{ dispose(): Promise<void>; context: LlamaContext }> {
  const llama = await getLlama({
    gpu: false,
    build: "never",
    maxThreads: 1,
    logLevel: LlamaLogLevel.error,
    ...(build === "openmp" ? { cmakeOptions: { ...openmpBuildOptions }, usePrebuiltBinaries: false } : {}),
  });
  const model = await llama.loadModel({ modelPath: storiesPath });
  const context = await model.createContext({ contextSize: 1024, sequences: 4, threads: 1, batchSize: 512 });
  return { context, dispose: () => llama.dispose() };
}

/** Counts the fused calls: the addon object is frozen, so a proxy replaces it. */
export function countFusedCalls(context: LlamaContext): { calls: number } {
  const counter = { calls: 0 };
  const internal = context as unknown as { _ctx: Record<string | symbol, unknown> };
  const target = internal._ctx;
  internal._ctx = new Proxy(target, {
    get(object, property) {
      const value = object[property];
      if (typeof value !== "function") return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(object);
      if (property !== "decodeBatchAndSample") return bound;
      return (...args: unknown[]) => {
        counter.calls += 1;
        return bound(...args);
      };
    },
  });
  return counter;
}

/** The OpenMP build's context wrapped as a runner wraps it (sample gate, decode gatherer), its fused calls counted. */
export async function openRunnerContext(): Promise<{
  opened: Awaited<ReturnType<typeof openContext>>;
  gather: DecodeGather;
  fused: { calls: number };
}> {
  const opened = await openContext("openmp");
  installSampleGate(opened.context);
  const gather = new DecodeGather(opened.context);
  return { opened, gather, fused: countFusedCalls(opened.context) };
}
