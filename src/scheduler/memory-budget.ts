/**
 * Memory-aware admission: what a model will need (weights + KV cache for every sequence +
 * compute buffers; the estimate is injected — the server passes the GPU planner's) against the
 * budget (available RAM minus a margin, or --memory-budget).
 */
import { readHostMemorySync } from "../gpu/index.js";

export interface MemoryEstimate {
  totalBytes: number;
  weightsBytes: number;
  kvCacheBytes: number;
  computeBytes: number;
}

export const emptyMemoryEstimate: MemoryEstimate = {
  totalBytes: 0,
  weightsBytes: 0,
  kvCacheBytes: 0,
  computeBytes: 0,
};

const mebibyte = 1024 * 1024;

/** MemAvailable from /proc/meminfo (counts reclaimable cache), else os.freemem(). */
export function availableMemoryBytes(): number {
  return readHostMemorySync().availableBytes;
}

export const memoryMarginBytes = 1024 * mebibyte;
