/**
 * What an operator has at hand, for the production integration test: the `rawrxd` CLI run as a
 * real process, `rawrxd serve` as a real child process (found by its banner), an HTTP client
 * that carries an API key, streams read as they arrive, and a tiny webhook receiver for alerts.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { sleep, waitFor } from "../support/wait-for.js";

const binPath = resolve("bin/rawrxd.js");

/** Parsed wire JSON: the test asserts on its shape with expect. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rawrxd ARGS` to its end (killed after `timeoutMs`). */
export async function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [binPath, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const result: CliResult = { code: null, stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => (result.stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (result.stderr += chunk.toString()));
  const exited = once(child, "close");
  try {
    await waitFor(
      () => child.exitCode !== null || child.signalCode !== null,
      `rawrxd ${args.join(" ")}`,
      options.timeoutMs ?? 60_000,
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  await exited;
  result.code = child.exitCode;
  return result;
}

/** Runs `rawrxd ARGS` and fails with its output unless it exits 0. */
export async function runCliOk(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const result = await runCli(args, { env });
  if (result.code !== 0)
    throw new Error(
      `rawrxd ${args.join(" ")} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  return result;
}

export interface ServerProcess {
  pid: number;
  url: string;
  /** Everything the server wrote to stderr so far. */
  readonly stderr: string;
  /** The stderr lines worth showing in a failure: the access log only where a request failed or wrote. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  isRunning(): boolean;
}

/** Starts `rawrxd serve FLAGS` and waits for its banner ("RawrXD listening on URL"). */
export async function startServe(flags: readonly string[], timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [binPath, "serve", ...flags], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const logTail = (lines = 30) =>
    stderr
      .split("\n")
      .filter((line) => !/"message":"Request","method":"GET".*"status":[23]\d\d/.test(line))
      .slice(-lines)
      .join("\n");
  const server: ServerProcess = {
    pid: child.pid!,
    url: "",
    get stderr() {
      return stderr;
    },
    logTail,
    isRunning,
    async stop(graceMs = 15_000) {
      if (!isRunning()) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      try {
        await waitFor(() => !isRunning(), `server ${child.pid} to stop`, graceMs);
      } catch {
        child.kill("SIGKILL");
      }
      await exited;
    },
  };
  try {
    const banner = await waitFor(
      () => /RawrXD listening on (http:\/\/\S+)/.exec(stderr)?.[1] ?? (isRunning() ? undefined : "exited"),
      "the server's banner",
      timeoutMs,
    );
    if (banner === "exited") throw new Error(`rawrxd serve exited ${child.exitCode}:\n${logTail()}`);
    server.url = banner;
  } catch (error) {
    if (isRunning()) child.kill("SIGKILL");
    throw error;
  }
  return server;
}

/**
 * Polls a server: like `waitFor`, but `intervalMs` (default 50) between probes, so that polling
 * over HTTP does not load the server it watches (and its health checks) on a busy machine.
 */
export function pollServer<T>(
  probe: () => Promise<T>,
  what: string,
  timeoutMs: number,
): Promise<Exclude<T, false | undefined>> {
  return waitFor(
    async () => {
      const value = await probe();
      if (value === false || value === undefined) await sleep(50);
      return value;
    },
    what,
    timeoutMs,
  );
}

/** Whether a process (of ours) is still alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Api {
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  delete(path: string): Promise<Response>;
  /** GET and parse JSON; fails with the body unless 200. */
  json<T = Json>(path: string): Promise<T>;
}

/** An HTTP client of one server with one API key (none: anonymous). */
export function apiClient(url: string, key: string | undefined): Api {
  const auth: Record<string, string> = key === undefined ? {} : { Authorization: `Bearer ${key}` };
  const api: Api = {
    get: (path, headers = {}) => fetch(`${url}${path}`, { headers: { ...auth, ...headers } }),
    post: (path, body, headers = {}) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    delete: (path) => fetch(`${url}${path}`, { method: "DELETE", headers: auth }),
    async json<T>(path: string): Promise<T> {
      const response = await api.get(path);
      const text = await response.text();
      if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    },
  };
  return api;
}

export interface StreamResult {
  status: number;
  /** The JSON payloads of the SSE `data:` frames or the NDJSON lines, in order. */
  frames: Json[];
  /** The raw body, for failure messages. */
  body: string;
}

export interface Stream {
  id: string;
  /** Resolves when the first frame carrying generated text arrives. */
  firstToken: Promise<void>;
  /** Wall time (monotonic, ms) at which the first generated text arrived. */
  firstTokenAt(): number | undefined;
  done: Promise<StreamResult>;
}

/**
 * Sends a streaming request and reads it as it arrives. `dialect` picks the framing: `sse`
 * (OpenAI) or `ndjson` (Ollama). `now` reads the monotonic clock (the time port).
 */
export function openStream(
  api: Api,
  options: {
    path: string;
    body: unknown;
    id: string;
    priority: "high" | "normal" | "low";
    dialect: "sse" | "ndjson";
    now: () => number;
  },
): Stream {
  let firstTokenAt: number | undefined;
  let resolveFirst!: () => void;
  let rejectFirst!: (error: Error) => void;
  const firstToken = new Promise<void>((resolveIt, rejectIt) => {
    resolveFirst = resolveIt;
    rejectFirst = rejectIt;
  });
  // Not every stream is awaited on its first token (a cancelled one never has one).
  firstToken.catch(() => {});
  const done = (async (): Promise<StreamResult> => {
    const response = await api.post(options.path, options.body, {
      "X-Request-Id": options.id,
      "X-Priority": options.priority,
    });
    const frames: Json[] = [];
    let body = "";
    let pending = "";
    const separator = options.dialect === "sse" ? "\n\n" : "\n";
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done: isDone } = await reader.read();
      if (isDone) break;
      const text = decoder.decode(value as Uint8Array, { stream: true });
      body += text;
      pending += text;
      let end: number;
      while ((end = pending.indexOf(separator)) >= 0) {
        const frame = parseFrame(pending.slice(0, end), options.dialect);
        pending = pending.slice(end + separator.length);
        if (frame === undefined) continue;
        frames.push(frame);
        if (firstTokenAt === undefined && carriesText(frame)) {
          firstTokenAt = options.now();
          resolveFirst();
        }
      }
    }
    const last = parseFrame(pending, options.dialect);
    if (last !== undefined) frames.push(last);
    if (firstTokenAt === undefined) rejectFirst(new Error(`${options.id} ended without text: ${body}`));
    return { status: response.status, frames, body };
  })();
  done.catch((error: Error) => rejectFirst(error));
  return { id: options.id, firstToken, firstTokenAt: () => firstTokenAt, done };
}

function parseFrame(raw: string, dialect: "sse" | "ndjson"): Json {
  const text = raw.trim();
  if (text === "") return undefined;
  if (dialect === "ndjson") return JSON.parse(text);
  const data = text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice("data: ".length))
    .join("\n");
  if (data === "" || data === "[DONE]") return undefined;
  return JSON.parse(data);
}

function carriesText(frame: Json): boolean {
  const choice = frame?.choices?.[0];
  const text = choice?.text ?? choice?.delta?.content ?? frame?.response ?? frame?.message?.content;
  return typeof text === "string" && text.length > 0;
}

export interface Webhook {
  url: string;
  /** The JSON bodies POSTed so far, in arrival order. */
  alerts: Json[];
  close(): Promise<void>;
}

/** A webhook receiver on loopback that answers 204 to every POST and keeps its JSON body. */
export async function startWebhook(): Promise<Webhook> {
  const alerts: Json[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      try {
        alerts.push(JSON.parse(body));
      } catch {
        alerts.push({ unparsable: body });
      }
      response.writeHead(204).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    alerts,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
