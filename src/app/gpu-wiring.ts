/**
 * Wires the GPU planner into the serving path: the operator's offload and thread settings and
 * the model's memory shape reach every runner load (the scheduler's LoadSpec carries only the
 * basics), and the scheduler's admission uses the planner's host-RAM estimate instead of its own.
 */
import { join } from "node:path";
import type { Config } from "../config/index.js";
import type { InferenceEngine, RunnerTuning } from "../engine/index.js";
import {
  effectiveContextTokens,
  memoryShapeOf,
  planOffload,
  type DeviceMemory,
  type GpuReport,
  type ModelMemoryShape,
} from "../gpu/index.js";
import type { ModelFile } from "../models/index.js";
import type { MemoryEstimate, ModelResolver, ResolvedModel } from "../scheduler/index.js";
import { draftModelCheck } from "./draft-model-check.js";

export function runnerTuningOf(config: Readonly<Config>): RunnerTuning {
  return {
    requestedGpu: config.gpu,
    gpuLayers: config.gpuLayers < 0 ? "auto" : config.gpuLayers,
    gpuMarginBytes: config.gpuMarginBytes,
    cacheDirectory: join(config.home, "cache"),
    engineBuild: config.engineBuild,
    flashAttention: config.flashAttention,
    speculative: config.speculative,
    streamCoalesceMs: config.streamCoalesceMs,
    promptCacheDirectory: config.promptCache === "" ? undefined : config.promptCache,
    promptCacheMaxBytes: config.promptCacheMaxBytes,
  };
}

/**
 * The scheduler resolves a model (the catalog validates and caches its header), then loads it:
 * the shape remembered at resolve goes with the load, so the runner plans from the header the
 * main process already has instead of parsing the file again. Every load gets the tuning too.
 */
export function runnerLoadPath(options: {
  engine: InferenceEngine;
  tuning: RunnerTuning;
  resolve: (name: string) => Promise<ModelFile>;
  /** --draft-model: loaded beside every model once its vocabulary is checked; "" or absent = none. */
  draftModel?: string | undefined;
}): { engine: InferenceEngine; models: ModelResolver } {
  const shapes = new Map<string, ModelMemoryShape>();
  const shapeByInfo = new WeakMap<object, ModelMemoryShape>();
  const drafts =
    options.draftModel === undefined || options.draftModel === ""
      ? undefined
      : draftModelCheck({ draftModel: options.draftModel, resolve: options.resolve });
  return {
    models: {
      resolve: async (name) => {
        const file = await options.resolve(name);
        // The catalog hands out the same header object until the file changes: shaped once.
        let shape = shapeByInfo.get(file.info);
        if (shape === undefined) shapeByInfo.set(file.info, (shape = memoryShapeOf(file.info)));
        shapes.set(file.path, shape);
        return file;
      },
    },
    engine: {
      load: async (spec, signal) => {
        const draftModel = await drafts?.draftFor({ name: spec.name, path: spec.path });
        const tuning = draftModel === undefined ? options.tuning : { ...options.tuning, draftModel };
        return options.engine.load({ ...spec, tuning, shape: spec.shape ?? shapes.get(spec.path) }, signal);
      },
    },
  };
}

/** Device memory of the chosen backend's devices, summed; undefined on the CPU or when a size is unknown. */
export function chosenDeviceMemory(report: GpuReport): DeviceMemory | undefined {
  if (report.chosen === "cpu") return undefined;
  const devices = report.devices.filter((device) => device.backend === report.chosen);
  if (
    devices.length === 0 ||
    devices.some((device) => device.totalBytes === undefined || device.freeBytes === undefined)
  )
    return undefined;
  return {
    totalBytes: devices.reduce((sum, device) => sum + device.totalBytes!, 0),
    freeBytes: devices.reduce((sum, device) => sum + device.freeBytes!, 0),
    isUnifiedMemory: devices.every((device) => device.isUnifiedMemory),
    deviceCount: devices.length,
  };
}

/** The scheduler's estimateMemory: host RAM the planned model takes (device memory too when it is RAM). */
export function plannedMemoryEstimate(options: {
  config: Readonly<Config>;
  report: () => GpuReport;
}): (model: ResolvedModel) => MemoryEstimate {
  const { config } = options;
  return (model) => {
    if (model.info === undefined) return { totalBytes: 0, weightsBytes: 0, kvCacheBytes: 0, computeBytes: 0 };
    const report = options.report();
    const shape = memoryShapeOf(model.info);
    const plan = planOffload({
      shape,
      backend: report.chosen,
      contextTokens: effectiveContextTokens(config.contextTokens, shape.trainContextTokens),
      sequences: config.parallel,
      device: chosenDeviceMemory(report),
      hostAvailableBytes: report.host.availableBytes,
      marginBytes: config.gpuMarginBytes,
      requestedGpuLayers: config.gpuLayers < 0 ? "auto" : config.gpuLayers,
    });
    return {
      totalBytes: plan.hostRamBytes,
      weightsBytes: plan.estimate.weightsBytes,
      kvCacheBytes: plan.estimate.kvCacheBytes,
      computeBytes: plan.estimate.computeBytes,
    };
  };
}
