/**
 * Ends `rawrxd serve` when the npm or npx process that launched it dies. A service manager
 * (systemd, docker) signals only its main process: npm passes SIGTERM to the `sh -c` it runs
 * the bin in, not to us, and we would be left serving as an orphan. So, under npm only, poll
 * once a second: our parent changing (we were re-parented), or a dead launcher, means it is gone.
 */
import { readFileSync } from "node:fs";
import type { TimePort, Timer } from "../core/index.js";

/** What the watch reads about processes; tests swap it. */
export interface ProcessProbe {
  parentPid(): number;
  isAlive(pid: number): boolean;
  /** The parent of another process, where the platform tells (Linux /proc). */
  parentOf(pid: number): number | undefined;
  /** A process's command name, where the platform tells (Linux /proc). */
  commandOf(pid: number): string | undefined;
}

export const launcherPollMs = 1_000;

const shells = new Set(["sh", "bash", "dash", "zsh", "ash"]);

/** True when npm or npx started this process (they set npm_command; older npm set npm_lifecycle_event). */
export function isStartedByNpm(env: Record<string, string | undefined>): boolean {
  return env["npm_command"] !== undefined || env["npm_lifecycle_event"] !== undefined;
}

/** Calls `onGone` once, from a timer, when the launcher dies. The returned timer is unref'd. */
export function watchLauncher(options: { time: TimePort; probe: ProcessProbe; onGone: () => void }): Timer {
  const { probe } = options;
  const parent = probe.parentPid();
  const watched = [parent];
  // npm runs the bin through `sh -c`, which outlives an npm killed with SIGKILL: watch npm too.
  const grandparent = shells.has(probe.commandOf(parent) ?? "") ? probe.parentOf(parent) : undefined;
  if (grandparent !== undefined && grandparent > 1) watched.push(grandparent);
  const timer = options.time.setInterval(() => {
    if (probe.parentPid() === parent && watched.every((pid) => probe.isAlive(pid))) return;
    timer.cancel();
    options.onGone();
  }, launcherPollMs);
  return timer.unref();
}

/** This machine's processes. */
export const systemProcessProbe: ProcessProbe = {
  parentPid: () => process.ppid,
  isAlive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: it exists but belongs to another user.
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  },
  parentOf(pid) {
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const stat = readProcFile(`/proc/${pid}/stat`);
    const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
    const parent = Number(fields?.[1]);
    return Number.isInteger(parent) ? parent : undefined;
  },
  commandOf: (pid) => readProcFile(`/proc/${pid}/comm`)?.trim(),
};

function readProcFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
