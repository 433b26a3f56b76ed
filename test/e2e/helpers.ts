/**
 * End-to-end helpers: a real RawrXD server on a free loopback port with FakeEngine, and small
 * readers for the wire formats (SSE, NDJSON) and for requests whose socket the test controls.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger } from "../../src/core/index.js";
import { FakeEngine, type FakeModelBehaviour } from "../../src/engine/index.js";
import type { OpenSegmentFile } from "../../src/ops/index.js";

/** A real GGUF file: the catalog validates headers, so every fake model is a copy of it. */
export const storiesModelPath = resolve(process.cwd(), "../shared/models/stories260K.gguf");

export interface TestServerOptions {
  /** One model file per key (a copy of stories260K), with its FakeEngine behaviour. */
  models?: Record<string, FakeModelBehaviour>;
  /** Server flags by name without "--" (`"max-queue": "1"`); merged over the defaults. */
  flags?: Record<string, string>;
  /** How audit segment files are opened (fault injection: src/ops/audit/audit-files.testing.ts). */
  openAuditSegmentFile?: OpenSegmentFile;
}

export interface TestServer {
  server: RunningServer;
  engine: FakeEngine;
  url: string;
  home: string;
  modelsDir: string;
  /** Closes the server and removes its home folder; safe to call twice. */
  dispose(): Promise<void>;
}

/** Flags every test server gets unless a test overrides them. */
export function baseFlags(home: string, modelsDir: string): Record<string, string> {
  return {
    host: "127.0.0.1",
    port: "0",
    home,
    models: modelsDir,
    "max-queue": "4",
    "shutdown-grace": "1s",
  };
}

/** Makes a temporary home with a models folder holding one GGUF copy per model name. */
export function makeHome(modelNames: readonly string[]): { home: string; modelsDir: string } {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-e2e-"));
  const modelsDir = join(home, "models");
  mkdirSync(modelsDir);
  for (const name of modelNames) copyFileSync(storiesModelPath, join(modelsDir, `${name}.gguf`));
  return { home, modelsDir };
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const behaviours = options.models ?? { alpha: {} };
  const { home, modelsDir } = makeHome(Object.keys(behaviours));
  const engine = new FakeEngine(behaviours);
  const config = loadConfig({
    flags: { ...baseFlags(home, modelsDir), ...options.flags },
    env: {},
    readConfigFile: false,
  });
  let server: RunningServer;
  try {
    server = await startServer(config, {
      engine,
      logger: silentLogger,
      handleSignals: false,
      ...(options.openAuditSegmentFile === undefined
        ? {}
        : { openAuditSegmentFile: options.openAuditSegmentFile }),
    });
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  let disposed: Promise<void> | undefined;
  return {
    server,
    engine,
    url: server.url,
    home,
    modelsDir,
    dispose: () =>
      (disposed ??= (async () => {
        await server.close();
        rmSync(home, { recursive: true, force: true });
      })()),
  };
}

/** GPU device files are present (NVIDIA, AMD ROCm or a DRM render node): assertions about a CPU-only machine do not apply. */
export function hasGpuDeviceFiles(): boolean {
  return existsSync("/dev/nvidia0") || existsSync("/dev/kfd") || existsSync("/dev/dri");
}

export { sleep, waitFor } from "../support/wait-for.js";

export interface PostOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** POSTs a JSON body (or a raw string sent as is) with fetch. */
export function postJson(url: string, body: unknown, options: PostOptions = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

/** Parsed wire JSON: tests assert on its shape with expect. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface SseStream {
  raw: string;
  /** The payload of every `data:` event, in order, `[DONE]` included as the string. */
  data: string[];
  /** Comment lines (`: ping`) without the leading colon and space. */
  comments: string[];
}

/** Splits raw SSE text into data payloads and comment lines. */
export function parseSse(raw: string): SseStream {
  const data: string[] = [];
  const comments: string[] = [];
  for (const event of raw.split("\n\n")) {
    for (const line of event.split("\n")) {
      if (line.startsWith("data: ")) data.push(line.slice(6));
      else if (line.startsWith(":")) comments.push(line.slice(1).trim());
    }
  }
  return { raw, data, comments };
}

export async function readSse(response: Response): Promise<SseStream> {
  return parseSse(await response.text());
}

/** The JSON chunks of an SSE stream (everything but `[DONE]`). */
export function sseJson(stream: SseStream): Json[] {
  const chunks: Json[] = [];
  for (const payload of stream.data) if (payload !== "[DONE]") chunks.push(JSON.parse(payload));
  return chunks;
}

/** The `delta.content` of chat completion chunks, concatenated. */
export function chatContent(chunks: readonly Json[]): string {
  let text = "";
  for (const chunk of chunks) {
    const content: unknown = chunk.choices[0]?.delta.content;
    if (typeof content === "string") text += content;
  }
  return text;
}

/** The keys of a parsed JSON object. */
export function keysOf(value: Json): string[] {
  return Object.keys(value as object);
}

/** The `name` (or `id`) of every entry of a model list. */
export function namesOf(models: Json): string[] {
  return (models as { name?: string; id?: string }[]).map((model) => model.name ?? model.id ?? "");
}

/** Every NDJSON line; each must be complete and `\n`-terminated. */
export async function readNdjson(response: Response): Promise<Json[]> {
  const text = await response.text();
  if (text.length > 0 && !text.endsWith("\n"))
    throw new Error(`NDJSON does not end with a newline: ${JSON.stringify(text.slice(-80))}`);
  const lines: Json[] = [];
  for (const line of text.split("\n")) if (line.length > 0) lines.push(JSON.parse(line));
  return lines;
}

export interface RawRequest {
  /** Settles with the response once its headers arrive. */
  response: Promise<IncomingMessage>;
  /** Destroys the socket: the client goes away. */
  destroy(): void;
}

/** A node:http POST whose socket and reading the test controls (no agent, no keep-alive). */
export function rawPost(url: string, body: unknown, headers: Record<string, string> = {}): RawRequest {
  const payload = Buffer.from(JSON.stringify(body));
  const request = httpRequest(url, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "content-length": String(payload.length), ...headers },
  });
  const response = new Promise<IncomingMessage>((done, fail) => {
    request.once("response", done);
    request.once("error", fail);
  });
  // A destroyed request reports an error the test does not care about.
  response.catch(() => {});
  request.end(payload);
  return { response, destroy: () => request.destroy() };
}

/** Reads a node:http response to the end as text. */
export async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export const wordCount = (text: string): number => text.split(/\s+/).filter((word) => word.length > 0).length;

/** The response body as parsed JSON. */
export async function bodyOf(response: Response): Promise<Json> {
  return (await response.json()) as Json;
}
