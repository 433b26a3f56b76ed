/** Resident memory of a process (a runner), from /proc/<pid>/status; Linux only, undefined elsewhere. */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

export interface ResidentMemory {
  /** VmRSS: everything resident, mapped model weights included. */
  residentBytes: number;
  /** RssAnon: heap, KV cache, buffers. */
  anonymousBytes: number;
  /** RssFile: file pages mapped in, i.e. mmap'd weights. */
  fileBytes: number;
}

export function parseProcStatus(status: string): ResidentMemory | undefined {
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  };
  const residentBytes = field("VmRSS");
  if (residentBytes === undefined) return undefined;
  return { residentBytes, anonymousBytes: field("RssAnon") ?? 0, fileBytes: field("RssFile") ?? 0 };
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
