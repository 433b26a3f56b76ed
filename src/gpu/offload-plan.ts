/**
 * The offload planner: how many layers go to the GPU. Everything when it fits in the device's
 * free memory minus a safety margin, else as many layers as fit (partial), else none (CPU).
 * An integrated GPU's memory is host RAM, so there both parts come out of the same RAM.
 */
import { formatBytes } from "../core/index.js";
import type { EngineBackend } from "./gpu-report.js";
import {
  estimateModelMemory,
  totalLayersOf,
  type ModelMemoryEstimate,
  type ModelMemoryShape,
} from "./model-memory.js";

const mebibyte = 1024 * 1024;

export interface DeviceMemory {
  /** Free memory of the devices the backend spreads layers over, summed. */
  freeBytes: number;
  totalBytes: number;
  isUnifiedMemory: boolean;
  deviceCount: number;
}

export interface OffloadPlanOptions {
  shape: ModelMemoryShape;
  backend: EngineBackend;
  contextTokens: number;
  sequences: number;
  batchTokens?: number;
  /** Undefined on the CPU backend, or when the backend reported no memory. */
  device: DeviceMemory | undefined;
  hostAvailableBytes: number;
  /** Bytes kept free on the device; -1 or undefined = defaultDeviceMarginBytes. */
  marginBytes?: number | undefined;
  /** "auto" plans; a number is the operator's --gpu-layers, taken as is (capped at the model's layers). */
  requestedGpuLayers: number | "auto";
}

export type OffloadKind = "full" | "partial" | "none";

export interface OffloadPlan {
  backend: EngineBackend;
  gpuLayers: number;
  totalLayers: number;
  offload: OffloadKind;
  marginBytes: number;
  estimate: ModelMemoryEstimate;
  /** Host RAM the model takes from the memory budget (device memory too, when it is host RAM). */
  hostRamBytes: number;
  reason: string;
  /** Set when an explicit --gpu-layers does not fit the estimate. */
  warning: string | undefined;
}

/**
 * node-llama-cpp's own VRAM padding (8 % of the device, at most 1.6 GiB), so a plan that fits
 * here also passes the engine's check at load; at least 512 MiB for the CUDA or Vulkan context
 * and scratch that no estimate covers. Not yet measured on a GPU.
 */
export function defaultDeviceMarginBytes(totalBytes: number): number {
  return Math.floor(Math.max(512 * mebibyte, Math.min(totalBytes * 0.08, 1.6 * 1024 * mebibyte)));
}

export function planOffload(options: OffloadPlanOptions): OffloadPlan {
  const { shape, device } = options;
  const totalLayers = totalLayersOf(shape);
  const estimateFor = (gpuLayers: number): ModelMemoryEstimate =>
    estimateModelMemory(shape, {
      contextTokens: options.contextTokens,
      sequences: options.sequences,
      batchTokens: options.batchTokens,
      gpuLayers,
    });
  const marginBytes =
    device === undefined
      ? 0
      : options.marginBytes !== undefined && options.marginBytes >= 0
        ? options.marginBytes
        : defaultDeviceMarginBytes(device.totalBytes / Math.max(1, device.deviceCount)) *
          Math.max(1, device.deviceCount);
  const finish = (gpuLayers: number, reason: string, warning?: string): OffloadPlan => {
    const estimate = estimateFor(gpuLayers);
    const offload: OffloadKind = gpuLayers === 0 ? "none" : gpuLayers >= totalLayers ? "full" : "partial";
    const hostRamBytes = estimate.hostBytes + (device?.isUnifiedMemory === true ? estimate.deviceBytes : 0);
    return {
      backend: options.backend,
      gpuLayers,
      totalLayers,
      offload,
      marginBytes,
      estimate,
      hostRamBytes,
      reason,
      warning,
    };
  };
  if (options.backend === "cpu") return finish(0, "CPU backend: every layer runs on the CPU");
  if (options.requestedGpuLayers !== "auto") {
    const gpuLayers = Math.max(0, Math.min(options.requestedGpuLayers, totalLayers));
    const needed = estimateFor(gpuLayers).deviceBytes + marginBytes;
    const room = roomOf(device, options.hostAvailableBytes, estimateFor(gpuLayers));
    const warning =
      room !== undefined && needed > room
        ? `--gpu-layers ${gpuLayers} needs about ${formatBytes(needed)} of device memory (margin included) but ${formatBytes(room)} is free`
        : undefined;
    return finish(
      gpuLayers,
      `--gpu-layers ${options.requestedGpuLayers}${gpuLayers !== options.requestedGpuLayers ? ` (capped at the model's ${totalLayers} layers)` : ""}`,
      warning,
    );
  }
  if (device === undefined || device.totalBytes <= 0) {
    // The engine reported no device memory: offload everything and let the engine refuse.
    return finish(
      totalLayers,
      `${options.backend}: the device reported no memory size, offloading all ${totalLayers} layers`,
    );
  }
  for (let gpuLayers = totalLayers; gpuLayers > 0; gpuLayers--) {
    const estimate = estimateFor(gpuLayers);
    const room = roomOf(device, options.hostAvailableBytes, estimate)!;
    if (estimate.deviceBytes + marginBytes <= room) {
      const free = `${formatBytes(room)} free, margin ${formatBytes(marginBytes)}`;
      return gpuLayers === totalLayers
        ? finish(
            gpuLayers,
            `all ${totalLayers} layers fit on the ${options.backend} device (${formatBytes(estimate.deviceBytes)} needed, ${free})`,
          )
        : finish(
            gpuLayers,
            `${gpuLayers} of ${totalLayers} layers fit on the ${options.backend} device (${formatBytes(estimate.deviceBytes)} needed, ${free}); the rest run on the CPU`,
          );
    }
  }
  const oneLayer = estimateFor(1).deviceBytes + marginBytes;
  return finish(
    0,
    `not even one layer fits on the ${options.backend} device (${formatBytes(oneLayer)} needed with margin, ${formatBytes(roomOf(device, options.hostAvailableBytes, estimateFor(1))!)} free): running on the CPU`,
  );
}

/** Free device memory; for unified memory, host RAM left after the host part of this plan. */
function roomOf(
  device: DeviceMemory | undefined,
  hostAvailableBytes: number,
  estimate: ModelMemoryEstimate,
): number | undefined {
  if (device === undefined) return undefined;
  if (!device.isUnifiedMemory) return device.freeBytes;
  return Math.min(device.freeBytes, hostAvailableBytes) - estimate.hostBytes;
}
