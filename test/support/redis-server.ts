/**
 * A real redis-server for tests (issue #18): its own temp folder, a free loopback port, started
 * and stopped by its PID. Debian's redis-server (`.ci/run` installs it when missing).
 * `restart()` keeps the port and the folder: with `appendOnly`, what Redis acknowledged survives.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait-for.js";

export const redisServerPath = process.env["RAWRXD_REDIS_SERVER"] ?? "/usr/bin/redis-server";

/** A port the kernel had free a moment ago (loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = "";
    socket.setTimeout(500);
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) {
        socket.destroy();
        resolve(reply.startsWith("+PONG"));
      }
    });
    socket.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
  });
}

export interface RedisServerOptions {
  /** appendonly yes + appendfsync always: acknowledged writes survive a restart. Default true. */
  appendOnly?: boolean;
}

export class RedisTestServer {
  readonly port: number;
  readonly directory: string;
  readonly #appendOnly: boolean;
  #process: ChildProcess | undefined;

  private constructor(port: number, directory: string, appendOnly: boolean) {
    this.port = port;
    this.directory = directory;
    this.#appendOnly = appendOnly;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisTestServer> {
    const directory = mkdtempSync(join(tmpdir(), "rawrxd-redis-"));
    const server = new RedisTestServer(await freePort(), directory, options.appendOnly ?? true);
    await server.#spawn();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  async #spawn(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.directory,
      "--save",
      "",
      "--appendonly",
      this.#appendOnly ? "yes" : "no",
      "--appendfsync",
      "always",
      // BullMQ refuses to run unless keys are never evicted.
      "--maxmemory-policy",
      "noeviction",
      "--daemonize",
      "no",
      "--logfile",
      "",
    ];
    const child = spawn(redisServerPath, args, { stdio: ["ignore", "ignore", "inherit"] });
    this.#process = child;
    await waitFor(() => answersPing(this.port), `redis-server on port ${this.port}`, 10_000);
  }

  /** SIGKILL (or SIGTERM) and wait for the process to go. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
    this.#process = undefined;
  }

  /** Stops it and starts it again on the same port and folder. */
  async restart(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.stop(signal);
    await this.#spawn();
  }

  async dispose(): Promise<void> {
    await this.stop("SIGKILL");
    rmSync(this.directory, { recursive: true, force: true });
  }
}
