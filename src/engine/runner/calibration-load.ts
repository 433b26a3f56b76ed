/**
 * Whether other work was visible while the threads were calibrated (issue #17, item 2): a rate
 * measured while other processes (or the hypervisor: steal time) took CPU says nothing about
 * the machine at rest, so it is used for this load only and not cached. Measured from
 * /proc/stat (all CPUs) minus this process's own CPU time; undefined off Linux.
 */
import { readFileSync } from "node:fs";
import { systemTime } from "../../core/index.js";

/** Other processes' average CPU use, in cores, above which a calibration is not cached. */
export const maxOtherLoadCores = 0.3;
/** USER_HZ: /proc/stat counts in 1/100 s on Linux. */
const ticksPerSecond = 100;

export interface CpuSnapshot {
  /** Busy ticks of all CPUs, steal included. */
  busyTicks: number;
  /** This process's user + system CPU time. */
  ownCpuMs: number;
  atMs: number;
}

/** Busy ticks (user nice system irq softirq steal) from /proc/stat's first line; undefined if unreadable. */
export function parseProcStat(text: string): number | undefined {
  const line = text.split("\n", 1)[0] ?? "";
  if (!line.startsWith("cpu ")) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 8 || fields.some((field) => !Number.isFinite(field))) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = fields as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return user + nice + system + irq + softirq + steal;
}

export function readCpuSnapshot(): CpuSnapshot | undefined {
  let busyTicks: number | undefined;
  try {
    busyTicks = parseProcStat(readFileSync("/proc/stat", "utf8"));
  } catch {
    return undefined;
  }
  if (busyTicks === undefined) return undefined;
  const usage = process.cpuUsage();
  return { busyTicks, ownCpuMs: (usage.user + usage.system) / 1000, atMs: systemTime.monotonicNow() };
}

/** Cores other processes used on average between two snapshots (never below 0). */
export function otherLoadCores(before: CpuSnapshot, after: CpuSnapshot): number {
  const wallMs = after.atMs - before.atMs;
  if (wallMs <= 0) return 0;
  const busyMs = ((after.busyTicks - before.busyTicks) * 1000) / ticksPerSecond;
  return Math.max(0, (busyMs - (after.ownCpuMs - before.ownCpuMs)) / wallMs);
}
