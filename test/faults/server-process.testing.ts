/**
 * `rawrxd serve` as a real process for the fault tests: started on a given home (so a second
 * start finds what the first left), on the real engine with stories260K (cheap), killed with
 * SIGKILL or stopped with SIGTERM. Every pid it starts is tracked so a failed test leaves none.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { waitFor } from "../support/wait-for.js";

const binPath = resolve("bin/rawrxd.js");

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Everything the process wrote to stderr so far. */
  readonly stderr: string;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

const started = new Set<number>();

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills (SIGKILL) every server and extra pid this module started or was told of that still runs. */
export function killLeftovers(extraPids: readonly number[] = []): void {
  for (const pid of [...started, ...extraPids]) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  started.clear();
}

/** Starts `rawrxd serve` on `home` with the models in `modelsDir`; resolves once it listens. */
export async function startServerProcess(
  home: string,
  modelsDir: string,
  flags: readonly string[] = [],
): Promise<ServerProcess> {
  const args = [
    binPath,
    "serve",
    ...["--home", home, "--models", modelsDir, "--host", "127.0.0.1", "--port", "0"],
    ...["--gpu", "cpu", "--threads", "1", "--context-size", "512", "--engine-build", "prebuilt"],
    "--no-demo-model",
    ...flags,
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, RAWRXD_HOME: home },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const pid = child.pid!;
  started.add(pid);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  child.once("exit", () => (exited = true));
  const url = await waitFor(
    () => {
      if (exited) throw new Error(`rawrxd serve exited before listening:\n${stderr}`);
      return /RawrXD listening on (http:\/\/[^\s]+)/.exec(stderr)?.[1];
    },
    "the server's banner",
    60_000,
  );
  const gone = (): Promise<true> =>
    waitFor(() => exited || !isAlive(pid), `server pid ${pid} to exit`, 30_000);
  return {
    child,
    pid,
    url,
    get stderr() {
      return stderr;
    },
    async kill() {
      process.kill(pid, "SIGKILL");
      await gone();
      started.delete(pid);
    },
    async stop(graceMs = 20_000) {
      child.kill("SIGTERM");
      try {
        await waitFor(() => exited, `server pid ${pid} to exit after SIGTERM`, graceMs);
      } catch {
        if (isAlive(pid)) process.kill(pid, "SIGKILL");
        await gone();
      }
      started.delete(pid);
    },
  };
}
