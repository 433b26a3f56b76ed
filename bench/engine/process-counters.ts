/**
 * Per-process counters from Linux /proc, summed over the process's threads: CPU time in ns
 * (schedstat, not the 10 ms ticks of /proc/PID/stat), context switches (a voluntary one is a
 * sleep, so the next run is a wake-up) and write/read syscalls (/proc/PID/io: a runner's writes
 * are its IPC messages, the server's are socket writes plus credit messages).
 */
import { readFile, readdir } from "node:fs/promises";

export interface ProcessCounters {
  cpuMs: number;
  voluntarySwitches: number;
  involuntarySwitches: number;
  writeSyscalls: number;
  readSyscalls: number;
}

export async function readProcessCounters(pid: number): Promise<ProcessCounters> {
  const tasks = await readdir(`/proc/${pid}/task`);
  let cpuNs = 0;
  let voluntarySwitches = 0;
  let involuntarySwitches = 0;
  for (const task of tasks) {
    const [schedstat, status] = await Promise.all([
      readFile(`/proc/${pid}/task/${task}/schedstat`, "utf8").catch(() => "0"),
      readFile(`/proc/${pid}/task/${task}/status`, "utf8").catch(() => ""),
    ]);
    cpuNs += Number(schedstat.split(" ")[0]);
    voluntarySwitches += fieldOf(status, "voluntary_ctxt_switches");
    involuntarySwitches += fieldOf(status, "nonvoluntary_ctxt_switches");
  }
  const io = await readFile(`/proc/${pid}/io`, "utf8").catch(() => "");
  return {
    cpuMs: cpuNs / 1e6,
    voluntarySwitches,
    involuntarySwitches,
    writeSyscalls: fieldOf(io, "syscw"),
    readSyscalls: fieldOf(io, "syscr"),
  };
}

export function counterDelta(after: ProcessCounters, before: ProcessCounters): ProcessCounters {
  return {
    cpuMs: after.cpuMs - before.cpuMs,
    voluntarySwitches: after.voluntarySwitches - before.voluntarySwitches,
    involuntarySwitches: after.involuntarySwitches - before.involuntarySwitches,
    writeSyscalls: after.writeSyscalls - before.writeSyscalls,
    readSyscalls: after.readSyscalls - before.readSyscalls,
  };
}

function fieldOf(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s*(\\d+)`, "m").exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** Child pids of `pid`, leaving out tsx's esbuild service. */
export async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const lists = await Promise.all(
    tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, "utf8").catch(() => "")),
  );
  const pids = lists.flatMap((list) =>
    list
      .split(/\s+/)
      .filter((entry) => entry.length > 0)
      .map(Number),
  );
  const commandLines = await Promise.all(
    pids.map((child) => readFile(`/proc/${child}/cmdline`, "utf8").catch(() => "")),
  );
  return pids.filter((_, index) => commandLines[index] !== "" && !commandLines[index]!.includes("esbuild"));
}
