/**
 * Host RAM, the one /proc/meminfo reader: the offload planner, the scheduler's memory budget and
 * `rawrxd gpu` all read it here. Off Linux (no /proc) the os module's totals stand in.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { freemem, totalmem } from "node:os";
import type { HostMemory } from "./gpu-report.js";

/** A `Name:   123 kB` line of /proc/meminfo or /proc/<pid>/status, in bytes. */
export function procKilobytesField(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
  return match === null ? undefined : Number(match[1]) * 1024;
}

export function parseMeminfo(meminfo: string | undefined): HostMemory {
  const field = (name: string): number | undefined => procKilobytesField(meminfo ?? "", name);
  return {
    totalBytes: field("MemTotal") ?? totalmem(),
    availableBytes: field("MemAvailable") ?? freemem(),
    swapTotalBytes: field("SwapTotal") ?? 0,
  };
}

export async function readHostMemory(): Promise<HostMemory> {
  return parseMeminfo(await readFile("/proc/meminfo", "utf8").catch(() => undefined));
}

export function readHostMemorySync(): HostMemory {
  try {
    return parseMeminfo(readFileSync("/proc/meminfo", "utf8"));
  } catch {
    return parseMeminfo(undefined);
  }
}
