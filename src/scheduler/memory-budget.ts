/**
 * Memory-aware admission: what a model will need (weights + KV cache for every sequence +
 * compute buffers; the estimate is injected — the server passes the GPU planner's) against the
 * budget (available RAM minus a margin, or --memory-budget).
 */
import { readFileSync } from "node:fs";
import { freemem } from "node:os";

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
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return freemem();
}

export const memoryMarginBytes = 1024 * mebibyte;
