/**
 * The one-token request part of `npm run bench:ipc-floor` (ADR 0054): the bare floor servers
 * (ipc-floor-request-server.ts, without and with the audit line's write + fdatasync) and,
 * with `--rawrxd DIR,...`, the `rawrxd serve` of those checkouts on stories260K, all started at
 * once and sent one-token streamed requests in turn (one to each, order alternating), over
 * keep-alive connections; the main process's CPU (/proc, all threads) per request in blocks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeFlags } from "../../src/core/index.js";
import { modelsDirectory, prepareModel } from "../lib/models.js";
import { readProcessCounters } from "./process-counters.js";

export interface RequestServer {
  /** "request", "request-audit", "request-audit-sync", "request-handover" or "rawrxd <dir>". */
  name: string;
  child: ChildProcess;
  url: string;
  agent: Agent;
  home?: string;
}

const floorServerPath = fileURLToPath(new URL("./ipc-floor-request-server.ts", import.meta.url));

function started(child: ChildProcess, pattern: RegExp, stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      output += chunk;
      const match = pattern.exec(output);
      if (match !== null) resolve(match[1]!);
    });
    child.once("exit", (code) =>
      reject(new Error(`A request-floor server exited (${code}) early: ${output}`)),
    );
  });
}

export async function startRequestServers(rawrxdDirectories: readonly string[]): Promise<RequestServer[]> {
  const servers: RequestServer[] = [];
  for (const name of ["request", "request-audit", "request-audit-sync", "request-handover"]) {
    const child = spawn(process.execPath, ["--import", "tsx", floorServerPath, name], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await started(child, /listening (\d+)/, child.stdout);
    servers.push({ name, child, url: `http://127.0.0.1:${port}`, agent: new Agent({ keepAlive: true }) });
  }
  if (rawrxdDirectories.length > 0) await prepareModel("stories");
  for (const directory of rawrxdDirectories) {
    const home = mkdtempSync(join(tmpdir(), "rawrxd-ipc-floor-"));
    const child = spawn(
      process.execPath,
      [
        ...nodeFlags,
        join(directory, "bin", "rawrxd.js"),
        "serve",
        ...["--home", home, "--models", modelsDirectory, "--host", "127.0.0.1", "--port", "0"],
        ...["--threads", "1", "--log-level", "error"],
      ],
      { cwd: directory, stdio: ["ignore", "ignore", "pipe"] },
    );
    const url = await started(child, /listening on (http:\/\/\S+)/, child.stderr);
    servers.push({ name: `rawrxd ${directory}`, child, url, agent: new Agent({ keepAlive: true }), home });
  }
  return servers;
}

export async function stopRequestServers(servers: readonly RequestServer[]): Promise<void> {
  for (const server of servers) {
    server.agent.destroy();
    const exited = new Promise((resolve) => server.child.once("exit", resolve));
    if (server.child.exitCode === null) server.child.kill("SIGTERM");
    await exited;
    if (server.home !== undefined) rmSync(server.home, { recursive: true, force: true });
  }
}

/** One streamed one-token /v1/completions; resolves with the body's text. */
export function oneTokenRequest(server: RequestServer): Promise<string> {
  const body = JSON.stringify({
    model: "stories260K",
    prompt: "Once upon a time",
    max_tokens: 1,
    stream: true,
    temperature: 0,
  });
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${server.url}/v1/completions`,
      {
        method: "POST",
        agent: server.agent,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve(text));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** Main CPU ms per one-token request of each server over `requests` rounds (one request to each). */
export async function requestBlock(servers: readonly RequestServer[], requests: number, round: number) {
  const before = await Promise.all(servers.map((server) => readProcessCounters(server.child.pid!)));
  for (let index = 0; index < requests; index += 1) {
    const order = (index + round) % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) await oneTokenRequest(server);
  }
  const after = await Promise.all(servers.map((server) => readProcessCounters(server.child.pid!)));
  return servers.map((server, index) => ({
    server: server.name,
    round,
    cpuMsPerRequest: (after[index]!.cpuMs - before[index]!.cpuMs) / requests,
    wakeupsPerRequest: (after[index]!.voluntarySwitches - before[index]!.voluntarySwitches) / requests,
  }));
}
