/**
 * Memory-aware admission: what a model will need (weights + KV cache for every sequence +
 * compute buffers, from its GGUF header) against the budget (available RAM minus a margin, or
 * --memory-budget). Issue #3's GPU planner refines the estimate; the shape stays.
 */
import type { GgufInfo } from "../gguf/index.js";
import { readHostMemorySync } from "../gpu/index.js";

export interface MemoryEstimate {
  totalBytes: number;
  weightsBytes: number;
  kvCacheBytes: number;
  computeBytes: number;
}

const mebibyte = 1024 * 1024;

/** KV cache in f16 (llama.cpp's default) for `contextTokens × parallel` cells. */
export function estimateModelMemory(
  info: GgufInfo,
  options: { contextTokens: number; parallel: number },
): MemoryEstimate {
  const contextTokens = Math.min(options.contextTokens, info.contextLength ?? options.contextTokens);
  const layers = info.blockCount ?? 0;
  const embedding = info.embeddingLength ?? 0;
  const heads = info.headCount ?? 1;
  const kvHeads = info.headCountKv ?? heads;
  const kvWidth = heads > 0 ? (embedding / heads) * kvHeads : embedding;
  const kvCacheBytes = 2 * layers * kvWidth * 2 * contextTokens * options.parallel;
  // Logits for one batch (vocab × batch × f32) plus fixed scratch.
  const computeBytes = 16 * mebibyte + (info.vocabSize ?? 0) * 4 * Math.min(512, contextTokens);
  const weightsBytes = info.tensorBytes;
  return { totalBytes: weightsBytes + kvCacheBytes + computeBytes, weightsBytes, kvCacheBytes, computeBytes };
}

/** MemAvailable from /proc/meminfo (counts reclaimable cache), else os.freemem(). */
export function availableMemoryBytes(): number {
  return readHostMemorySync().availableBytes;
}

export const memoryMarginBytes = 1024 * mebibyte;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= mebibyte) return `${(bytes / mebibyte).toFixed(0)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}
