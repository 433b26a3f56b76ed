/**
 * RawrXD as users run it: `node bin/rawrxd.js serve` as a child process on 127.0.0.1 and a free
 * port, its address read from the "listening on" line. Also what the load generator reads from
 * it while it runs: the main process's RSS (/proc/PID/status) and its event-loop lag (/metrics).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { nodeFlags, systemTime } from "../../src/core/index.js";
import { benchDirectory } from "./models.js";

export const rawrxdBin = join(benchDirectory, "..", "bin", "rawrxd.js");

let isBuildEnsured = false;

/**
 * Brings dist/ up to date (ADR 0060), once per benchmark process: bin/rawrxd.js runs the source
 * through tsx when src/ is newer than the build, and a benchmark measures what users run.
 */
export function ensureServerBuild(): void {
  if (isBuildEnsured) return;
  execFileSync(
    process.execPath,
    ["--import", "tsx", join(benchDirectory, "..", "scripts", "ensure-server-build.ts")],
    {
      stdio: "inherit",
    },
  );
  isBuildEnsured = true;
}

/** The environment without RAWRXD_* settings, so only the flags given configure the child. */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("RAWRXD_")));
}

export interface ServerProcessOptions {
  home: string;
  modelsDirectory: string;
  /** Further `rawrxd serve` flags (--max-queue 64, --threads 1, …). */
  flags: readonly string[];
  startTimeoutMs: number;
}

export class ServerProcess {
  readonly #child: ChildProcess;
  readonly url: string;
  readonly pid: number;
  /** The last 8 KB of the server's stdout and stderr, for error messages. */
  #logTail: string;

  private constructor(child: ChildProcess, url: string, logTail: string) {
    this.#child = child;
    this.url = url;
    this.pid = child.pid ?? 0;
    this.#logTail = logTail;
    const keep = (chunk: Buffer): void => {
      this.#logTail = (this.#logTail + chunk.toString()).slice(-8192);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
  }

  get logTail(): string {
    return this.#logTail;
  }

  get hasExited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    ensureServerBuild();
    const child = spawn(
      process.execPath,
      [
        ...nodeFlags,
        rawrxdBin,
        "serve",
        ...[
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          "--home",
          options.home,
          "--models",
          options.modelsDirectory,
        ],
        ...options.flags,
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: cleanEnvironment() },
    );
    let log = "";
    const listening = new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        log = (log + chunk.toString()).slice(-8192);
        const match = /RawrXD listening on (http:\/\/[\d.:]+)/.exec(log);
        if (match !== null) resolve(match[1]!);
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("error", reject);
      child.once("exit", (code, signal) =>
        reject(new Error(`rawrxd serve exited (${code ?? signal}) before listening; its log: ${log}`)),
      );
    });
    const timeout = systemTime.setTimeout(() => child.kill("SIGKILL"), options.startTimeoutMs);
    try {
      const url = await listening;
      return new ServerProcess(child, url, log);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    } finally {
      timeout.cancel();
    }
  }

  /** SIGTERM (graceful: the audit log closes last), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<{ code: number | null; signal: string | null; killed: boolean }> {
    if (this.hasExited) return { code: this.#child.exitCode, signal: this.#child.signalCode, killed: false };
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      this.#child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    this.#child.kill("SIGTERM");
    let killed = false;
    const timer = systemTime.setTimeout(() => {
      killed = true;
      this.#child.kill("SIGKILL");
    }, timeoutMs);
    const result = await exited;
    timer.cancel();
    return { ...result, killed };
  }

  /** Ends the process at once (after a failed run). */
  kill(): void {
    if (!this.hasExited) this.#child.kill("SIGKILL");
  }
}

/** Resident set size of a process in bytes (VmRSS), or NaN once it is gone. */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const match = /^VmRSS:\s*(\d+)\s*kB/m.exec(status);
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}

export interface EventLoopLagReading {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The server's own event-loop delay over its last metrics interval, from the Prometheus
 * gauges rawrxd_event_loop_lag_{p50,p99,max}_seconds; undefined until the first interval.
 */
export async function readEventLoopLag(
  url: string,
  timeoutMs: number,
): Promise<EventLoopLagReading | undefined> {
  const controller = new AbortController();
  const timer = systemTime.setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(new URL("/metrics", url), { signal: controller.signal });
    const text = await response.text();
    const gauge = (name: string): number => {
      const match = new RegExp(`^rawrxd_event_loop_lag_${name}_seconds\\s+(\\S+)`, "m").exec(text);
      return match === null ? Number.NaN : Number(match[1]) * 1000;
    };
    const reading = { p50Ms: gauge("p50"), p99Ms: gauge("p99"), maxMs: gauge("max") };
    return Number.isFinite(reading.p99Ms) ? reading : undefined;
  } catch {
    return undefined;
  } finally {
    timer.cancel();
  }
}
