/**
 * Is the machine quiet enough to measure thread counts on (docs/decisions/0032)? A calibration
 * taken while something else runs measures that other load, not the machine: 2 threads measured
 * 7 tok/s in one such moment and 253 in a quiet one. Readings come from /proc (Linux); where it
 * cannot be read the machine counts as quiet and the conditions say "unknown".
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** One reading of the machine and of this process. Tick counts are cumulative (USER_HZ). */
export interface LoadReading {
  /** 1-minute load average. */
  loadAverage1: number;
  /** /proc/stat "cpu" line, all cores together. */
  totalTicks: number;
  idleTicks: number;
  iowaitTicks: number;
  stealTicks: number;
  /** This process's user + system ticks (/proc/self/stat). */
  ownTicks: number;
}

/** What a calibration was measured under, kept in the cache entry. */
export interface LoadConditions {
  loadAverage1: number;
  /** Cores kept busy by other processes between the two readings; undefined with one reading. */
  otherBusyCores?: number | undefined;
  stealPercent?: number | undefined;
  iowaitPercent?: number | undefined;
  /** Generations this runner had in flight. */
  inFlight: number;
}

export interface LoadVerdict {
  isQuiet: boolean;
  /** Why not, for the log and the thread detail; "" when quiet. */
  reason: string;
  conditions: LoadConditions | undefined;
}

/** Reads the machine's load; undefined where /proc is not there. Tests inject their own. */
export type LoadProbe = () => LoadReading | undefined;

/** Load average beyond this process above this share of the cores: not quiet. */
export const maxLoadPerCore = 0.5;
/** Other processes busy on more than this share of the cores between two readings: not quiet. */
export const maxOtherBusyPerCore = 0.25;
export const maxStealPercent = 5;
export const maxIowaitPercent = 10;

export const readProcLoad: LoadProbe = () => {
  try {
    const loadAverage1 = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
    const cpuLine = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const fields = cpuLine.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest is counted in user.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const self = readFileSync("/proc/self/stat", "utf8");
    const afterName = self.slice(self.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    const ownTicks = Number(afterName[11]) + Number(afterName[12]);
    if (![loadAverage1, ownTicks, user].every(Number.isFinite)) return undefined;
    return {
      loadAverage1,
      totalTicks: user + nice + system + idle + iowait + irq + softirq + steal,
      idleTicks: idle,
      iowaitTicks: iowait,
      stealTicks: steal,
      ownTicks,
    };
  } catch {
    return undefined;
  }
};

/** Fixed readings, for tests: "quiet" (nothing else runs) or "busy" (another process on every core). */
export function fixedLoadProbe(kind: "quiet" | "busy", cores: number): LoadProbe {
  let ticks = 0;
  return () => {
    ticks += 100 * cores;
    return {
      loadAverage1: kind === "quiet" ? 0 : 2 * cores,
      totalTicks: ticks,
      idleTicks: kind === "quiet" ? ticks : 0,
      iowaitTicks: 0,
      stealTicks: 0,
      ownTicks: 0,
    };
  };
}

/** The probe a runner's tuning asks for: /proc unless a test fixes the readings. */
export function loadProbeFor(kind: "system" | "quiet" | "busy" | undefined): LoadProbe {
  return kind === "quiet" || kind === "busy" ? fixedLoadProbe(kind, availableParallelism()) : readProcLoad;
}

/**
 * The verdict from one reading (before calibrating: the load average, less one core for this
 * runner, which has just loaded the model) or from two (after: what other processes, steal and
 * iowait took in between, less this process's own ticks).
 */
export function assessLoad(options: {
  before: LoadReading | undefined;
  after?: LoadReading | undefined;
  cores: number;
  inFlight: number;
}): LoadVerdict {
  const { before, after, cores, inFlight } = options;
  if (before === undefined) {
    return inFlight > 0
      ? { isQuiet: false, reason: `${inFlight} generation(s) in flight`, conditions: undefined }
      : { isQuiet: true, reason: "", conditions: undefined };
  }
  const conditions: LoadConditions = { loadAverage1: before.loadAverage1, inFlight };
  const reasons: string[] = [];
  if (inFlight > 0) reasons.push(`${inFlight} generation(s) in flight`);
  const ownCores = after === undefined ? 1 : 0;
  if (after === undefined && before.loadAverage1 - ownCores > maxLoadPerCore * cores)
    reasons.push(`load average ${before.loadAverage1} on ${cores} cores`);
  if (after !== undefined) {
    conditions.loadAverage1 = after.loadAverage1;
    const total = after.totalTicks - before.totalTicks;
    if (total > 0) {
      const busy = total - (after.idleTicks - before.idleTicks) - (after.iowaitTicks - before.iowaitTicks);
      const other = Math.max(0, busy - (after.ownTicks - before.ownTicks));
      conditions.otherBusyCores = round((other / total) * cores);
      conditions.stealPercent = round(((after.stealTicks - before.stealTicks) / total) * 100);
      conditions.iowaitPercent = round(((after.iowaitTicks - before.iowaitTicks) / total) * 100);
      if (conditions.otherBusyCores > maxOtherBusyPerCore * cores)
        reasons.push(`other processes kept ${conditions.otherBusyCores} of ${cores} cores busy`);
      if (conditions.stealPercent > maxStealPercent) reasons.push(`steal ${conditions.stealPercent} %`);
      if (conditions.iowaitPercent > maxIowaitPercent) reasons.push(`iowait ${conditions.iowaitPercent} %`);
    }
  }
  return { isQuiet: reasons.length === 0, reason: reasons.join(", "), conditions };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** How long other processes' CPU use is watched before calibrating (docs/decisions/0053). */
export const quietWindowMs = 250;

/**
 * The verdict on the machine as it is now: what other processes, steal and iowait took over
 * `windowMs`, not the 1-minute load average, which still shows whatever ran in the last minute
 * (a benchmark's previous block, `npm ci`) on a machine that has gone quiet. Resolves with the
 * window's last reading, the start of the next check.
 */
export async function assessLoadNow(options: {
  probe: LoadProbe;
  cores: number;
  inFlight: () => number;
  sleep: (delayMs: number) => Promise<void>;
  windowMs?: number | undefined;
}): Promise<{ verdict: LoadVerdict; reading: LoadReading | undefined }> {
  const start = options.probe();
  if (start !== undefined) await options.sleep(options.windowMs ?? quietWindowMs);
  const reading = options.probe();
  const verdict = assessLoad({
    before: start,
    after: reading,
    cores: options.cores,
    inFlight: options.inFlight(),
  });
  return { verdict, reading };
}
