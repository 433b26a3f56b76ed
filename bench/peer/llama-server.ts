/**
 * llama.cpp's own `llama-server`, built once from the llama.cpp source node-llama-cpp ships
 * (bench/threads/build-llama-bench.sh --server, into the git-ignored bench/.llama.cpp/) and run
 * as a child process on 127.0.0.1 with the flags the peer benchmark compares against.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { benchDirectory } from "../lib/models.js";

export const llamaServerBinary = join(benchDirectory, ".llama.cpp", "build", "bin", "llama-server");
const buildScript = join(benchDirectory, "threads", "build-llama-bench.sh");

/** Builds llama-server and llama-bench unless llama-server is there (nice 15: minutes on 2 cores). */
export async function ensureLlamaServer(log: (line: string) => void): Promise<boolean> {
  if (existsSync(llamaServerBinary)) return true;
  log(`building llama-server once into bench/.llama.cpp (6–25 minutes): ${buildScript} --server`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn("nice", ["-n", "15", "bash", buildScript, "--server"], { stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${buildScript} --server failed (exit ${code}).`)),
    );
  });
  return existsSync(llamaServerBinary);
}

/** Whether this llama-server knows `--spec-type ngram-simple` (prompt-lookup drafting, no draft model). */
export async function supportsNgramSpeculation(): Promise<boolean> {
  const { stdout, stderr } = await promisify(execFile)(llamaServerBinary, ["--help"], {
    maxBuffer: 8 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string }) => ({
    stdout: error.stdout ?? "",
    stderr: error.stderr ?? "",
  }));
  const help = stdout + stderr;
  return /--spec-type/.test(help) && /ngram-simple/.test(help);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

export class LlamaServer {
  readonly #child: ChildProcess;
  readonly url: string;
  readonly pid: number;

  private constructor(child: ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
    this.pid = child.pid ?? 0;
  }

  /** `llama-server -m MODEL --host 127.0.0.1 --port P …flags`, ready once /health answers 200. */
  static async start(modelPath: string, flags: readonly string[]): Promise<LlamaServer> {
    const port = await freePort();
    const child = spawn(
      llamaServerBinary,
      ["-m", modelPath, "--host", "127.0.0.1", "--port", String(port), ...flags],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4096)));
    const server = new LlamaServer(child, `http://127.0.0.1:${port}`);
    const deadline = systemTime.monotonicNow() + 120_000;
    while (systemTime.monotonicNow() < deadline) {
      if (child.exitCode !== null) throw new Error(`llama-server exited (${child.exitCode}): ${log}`);
      const status = await fetch(`${server.url}/health`).then(
        (response) => response.status,
        () => 0, // not listening yet
      );
      if (status === 200) return server;
      await systemTime.sleep(100);
    }
    child.kill("SIGKILL");
    throw new Error(`llama-server did not become healthy within 120 s: ${log}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.kill("SIGTERM");
    const timer = systemTime.setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await exited;
    timer.cancel();
  }
}
