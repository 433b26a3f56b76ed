/** node-llama-cpp in this process, opened on the CPU the way the runner opens it: the suites' direct reference. */
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext } from "node-llama-cpp";
import { openmpBuildOptions } from "../../src/engine/index.js";

export interface DirectContextOptions {
  modelPath: string;
  threads: number;
  contextSize: number;
  sequences: number;
  /** Tokens per llama_decode batch; node-llama-cpp's default when absent. */
  batchSize?: number;
  /** "openmp" takes the local OpenMP build (`npm run engine:build`). */
  build?: "prebuilt" | "openmp";
  /** llama.cpp's flash attention; node-llama-cpp's default ("auto": on, on the CPU) when absent. */
  flashAttention?: boolean | "auto";
}

/**
 * The engine (never compiled, never downloaded), the model and one context. The caller disposes
 * `llama`, which releases the model and context with it.
 */
export async function openDirectContext(
  options: DirectContextOptions,
): Promise<{ llama: Llama; context: LlamaContext }> {
  const llama = await getLlama({
    gpu: false,
    build: "never",
    maxThreads: options.threads,
    logLevel: LlamaLogLevel.error,
    ...(options.build === "openmp"
      ? { cmakeOptions: { ...openmpBuildOptions }, usePrebuiltBinaries: false }
      : {}),
  });
  try {
    const model = await llama.loadModel({ modelPath: options.modelPath });
    const context = await model.createContext({
      contextSize: options.contextSize,
      sequences: options.sequences,
      threads: options.threads,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.flashAttention === undefined ? {} : { flashAttention: options.flashAttention }),
    });
    return { llama, context };
  } catch (error) {
    await llama.dispose();
    throw error;
  }
}
