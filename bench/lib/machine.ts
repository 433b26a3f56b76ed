/** What the numbers were measured on, and a guard that no runner process outlives its block. */
import { readFile, readdir } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { getModuleVersion } from "node-llama-cpp";
import { systemTime } from "../../src/core/index.js";

export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  availableParallelism: number;
  totalMemoryBytes: number;
  platform: string;
  kernelRelease: string;
  nodeVersion: string;
  nodeLlamaCppVersion: string;
  loadAverageAtStart: number[];
}

export async function describeMachine(): Promise<MachineInfo> {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? "unknown",
    logicalCores: processors.length,
    availableParallelism: availableParallelism(),
    totalMemoryBytes: totalmem(),
    platform: `${process.platform}-${process.arch}`,
    kernelRelease: release(),
    nodeVersion: process.version,
    nodeLlamaCppVersion: await getModuleVersion(),
    loadAverageAtStart: loadavg(),
  };
}

/** CPU time (user + system) of this process, all threads, in ms. */
export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** CPU time of another process from /proc/<pid>/stat, in ms (clock ticks of 10 ms). */
export async function otherProcessCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const clockTicksPerSecond = 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
}

/** The one child process other than tsx's esbuild service: the server's runner. */
export async function soleChildProcessId(): Promise<number> {
  const children = await childProcessIds();
  if (children.length !== 1)
    throw new Error(
      `Expected one runner process, found ${children.length} child processes (${children.join(", ")}).`,
    );
  return children[0]!;
}

/**
 * Child pids of this process (Linux /proc), leaving out tsx's long-lived esbuild service;
 * empty where /proc is unavailable.
 */
async function childProcessIds(): Promise<number[]> {
  try {
    const tasks = await readdir("/proc/self/task");
    const lists = await Promise.all(
      tasks.map((task) => readFile(`/proc/self/task/${task}/children`, "utf8").catch(() => "")),
    );
    const pids = lists.flatMap((list) =>
      list
        .split(/\s+/)
        .filter((pid) => pid.length > 0)
        .map(Number),
    );
    const commandLines = await Promise.all(
      pids.map((pid) => readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")),
    );
    return pids.filter((_, index) => commandLines[index] !== "" && !commandLines[index]!.includes("esbuild"));
  } catch {
    return [];
  }
}

/** Waits until every child process (a runner, getLlama's binary test) has exited. */
export async function waitForNoChildProcesses(timeoutMs: number): Promise<void> {
  const deadline = systemTime.monotonicNow() + timeoutMs;
  for (;;) {
    const children = await childProcessIds();
    if (children.length === 0) return;
    if (systemTime.monotonicNow() > deadline) {
      throw new Error(
        `Child processes ${children.join(", ")} still run ${timeoutMs} ms after their block ended; the variants would overlap.`,
      );
    }
    await systemTime.sleep(20);
  }
}
