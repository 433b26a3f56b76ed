/**
 * The runner's half of the GPU plan: open the engine on the chosen backend (falling back to the
 * CPU when the operator said auto and the GPU build fails here), read the engine's own device
 * memory, plan the offload from the header facts the main process sent (it validated the file),
 * and ask node-llama-cpp's estimators for a second opinion once the model is loaded.
 */
import { getLlama, LlamaLogLevel, NoBinaryFoundError, type Llama, type LlamaModel } from "node-llama-cpp";
import {
  effectiveContextTokens,
  planOffload,
  readHostMemory,
  type EngineBackend,
  type EngineEstimate,
  type OffloadPlan,
} from "../../gpu/index.js";
import type { EngineBuildChoice, GpuChoice, RunnerTuning } from "../contract.js";
import { openmpBuildOptions } from "../engine-build.js";
import type { RunnerLoadOptions } from "../protocol.js";

export type RunnerLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;

export interface OpenedEngine {
  llama: Llama;
  backend: EngineBackend;
  /** Set when the chosen GPU backend failed and the runner fell back to the CPU. */
  fallbackNote: string | undefined;
}

export function tuningOf(options: RunnerLoadOptions): RunnerTuning {
  return (
    options.tuning ?? {
      requestedGpu: options.gpu,
      gpuLayers: "auto",
      gpuMarginBytes: -1,
      cacheDirectory: undefined,
    }
  );
}

export async function openEngine(options: {
  gpu: GpuChoice;
  requestedGpu: GpuChoice;
  engineBuild: EngineBuildChoice;
  maxThreads: number;
  log: RunnerLog;
}): Promise<OpenedEngine> {
  const open = (gpu: GpuChoice, isOpenmp = false): Promise<Llama> =>
    getLlama({
      gpu: gpu === "cpu" ? false : gpu,
      // Never compile llama.cpp implicitly, never download: prebuilt binaries or a local opt-in build only.
      build: "never",
      ...(isOpenmp ? { cmakeOptions: { ...openmpBuildOptions }, usePrebuiltBinaries: false } : {}),
      // The default (max(cores, 4)) oversubscribes small machines: 0.3 tok/s instead of ~110.
      maxThreads: options.maxThreads,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) =>
        options.log(
          level === LlamaLogLevel.debug
            ? "debug"
            : level === LlamaLogLevel.info
              ? "info"
              : level === LlamaLogLevel.warn
                ? "warn"
                : "error",
          message.trim(),
        ),
    });
  if (options.gpu === "cpu" && options.engineBuild !== "prebuilt") {
    try {
      return { llama: await open("cpu", true), backend: "cpu", fallbackNote: undefined };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (options.engineBuild === "openmp") {
        throw new Error(
          `The local OpenMP engine build could not be loaded (--engine-build openmp): ${reason}. Build it with "npm run engine:build" (about 8 minutes), or use --engine-build auto.`,
          { cause: error },
        );
      }
      // No build is the usual case; a build that exists but fails to load is worth a warning.
      options.log(
        error instanceof NoBinaryFoundError ? "debug" : "warn",
        `The local OpenMP engine build was not loaded (${reason}); using the prebuilt one.`,
      );
    }
  } else if (options.engineBuild === "openmp") {
    options.log(
      "warn",
      `--engine-build openmp applies to the CPU only; the ${options.gpu} backend runs node-llama-cpp's prebuilt build.`,
    );
  }
  try {
    const llama = await open(options.gpu);
    return {
      llama,
      backend: llama.gpu === false ? "cpu" : (llama.gpu as EngineBackend),
      fallbackNote: undefined,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (options.gpu === "cpu" || options.requestedGpu !== "auto") {
      throw new Error(
        `The engine's ${options.gpu} build could not be loaded (--gpu ${options.requestedGpu}): ${reason}. "rawrxd gpu --local" shows what each backend needs.`,
        { cause: error },
      );
    }
    options.log(
      "warn",
      `The ${options.gpu} backend failed to load in the runner (${reason}); falling back to the CPU.`,
    );
    const llama = await open("cpu");
    return {
      llama,
      backend: "cpu",
      fallbackNote: `${options.gpu} failed to load in the runner (${reason}); fell back to the CPU`,
    };
  }
}

export async function planForEngine(
  engine: OpenedEngine,
  options: {
    load: RunnerLoadOptions;
    batchTokens: number;
    /** Re-plan for the layers the engine settled on. */ gpuLayers?: number;
  },
): Promise<OffloadPlan> {
  const tuning = tuningOf(options.load);
  const { shape } = options.load;
  let device;
  if (engine.backend !== "cpu") {
    const vram = await engine.llama.getVramState();
    const deviceCount = Math.max(1, (await engine.llama.getGpuDeviceNames()).length);
    device = {
      freeBytes: vram.free,
      totalBytes: vram.total,
      isUnifiedMemory: vram.unifiedSize > 0,
      deviceCount,
    };
  }
  const host = await readHostMemory();
  const plan = planOffload({
    shape,
    backend: engine.backend,
    contextTokens: effectiveContextTokens(options.load.contextTokens, shape.trainContextTokens),
    sequences: options.load.parallel,
    batchTokens: options.batchTokens,
    device,
    hostAvailableBytes: host.availableBytes,
    marginBytes: tuning.gpuMarginBytes,
    requestedGpuLayers: options.gpuLayers ?? tuning.gpuLayers,
  });
  return engine.fallbackNote === undefined
    ? plan
    : { ...plan, reason: `${engine.fallbackNote}; ${plan.reason}` };
}

/** node-llama-cpp's v2 estimators on the loaded (so validated) model; undefined when they fail. */
export async function estimateWithEngine(
  model: LlamaModel,
  options: { gpuLayers: number; contextTokens: number; sequences: number; batchTokens: number },
): Promise<EngineEstimate | undefined> {
  try {
    const insights = model.fileInsights;
    const modelEstimate = await insights.estimateModelResourceRequirementsV2({
      gpuLayers: options.gpuLayers,
    });
    const contextEstimate = await insights.estimateContextResourceRequirementsV2({
      contextSize: options.contextTokens,
      sequences: options.sequences,
      modelGpuLayers: options.gpuLayers,
      batchSize: options.batchTokens,
    });
    return {
      modelRamBytes: modelEstimate.cpuRam,
      modelVramBytes: modelEstimate.gpuVram,
      contextRamBytes: contextEstimate.cpuRam,
      contextVramBytes: contextEstimate.gpuVram,
    };
  } catch {
    return undefined;
  }
}
