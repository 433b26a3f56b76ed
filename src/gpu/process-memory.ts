/** Resident memory of a process (a runner), from /proc/<pid>/status; Linux only, undefined elsewhere. */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { procKilobytesField } from "./host-memory.js";

export interface ResidentMemory {
  /** VmRSS: everything resident, mapped model weights included. */
  residentBytes: number;
  /** RssAnon: heap, KV cache, buffers. */
  anonymousBytes: number;
  /** RssFile: file pages mapped in, i.e. mmap'd weights. */
  fileBytes: number;
  /** RssShmem: shared memory pages. */
  sharedBytes: number;
}

export function parseProcStatus(status: string): ResidentMemory | undefined {
  const field = (name: string): number | undefined => procKilobytesField(status, name);
  const residentBytes = field("VmRSS");
  if (residentBytes === undefined) return undefined;
  return {
    residentBytes,
    anonymousBytes: field("RssAnon") ?? 0,
    fileBytes: field("RssFile") ?? 0,
    sharedBytes: field("RssShmem") ?? 0,
  };
}

export async function readResidentMemory(pid: number | "self"): Promise<ResidentMemory | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  return status === undefined ? undefined : parseProcStatus(status);
}

export function readResidentMemorySync(pid: number | "self"): ResidentMemory | undefined {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return undefined;
  }
}
