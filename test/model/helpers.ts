/** Shared set-up for tests on the real engine: a temp models folder with stories260K and a server. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger } from "../../src/core/index.js";

export const storiesPath = resolve(process.cwd(), "../shared/models/stories260K.gguf");

/** Four story openings for concurrent-stream tests: each stream's text must stay its own. */
export const storyPrompts: readonly string[] = [
  "Once upon a time there was a little girl named Lily.",
  "The dog ran to the park with a big red ball.",
  "Tom had a toy car. He liked to play with it every day.",
  "One day, a bird sat on a tree and sang a happy song.",
];

export interface ModelTestServer {
  server: RunningServer;
  url: string;
  home: string;
  modelsDir: string;
  dispose(): Promise<void>;
}

export async function startModelServer(flags: Record<string, string> = {}): Promise<ModelTestServer> {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-model-"));
  const modelsDir = join(home, "models");
  mkdirSync(modelsDir);
  copyFileSync(storiesPath, join(modelsDir, "stories260K.gguf"));
  const config = loadConfig({
    // The prebuilt engine, as the tests' direct node-llama-cpp references use: a local OpenMP build
    // (npm run engine:build) computes slightly different logits. test/model/engine-build.test.ts covers the others.
    flags: {
      port: "0",
      home,
      models: modelsDir,
      threads: "1",
      parallel: "2",
      "context-size": "512",
      "engine-build": "prebuilt",
      ...flags,
    },
    env: {},
    readConfigFile: false,
  });
  const server = await startServer(config, { logger: silentLogger, handleSignals: false });
  return {
    server,
    url: server.url,
    home,
    modelsDir,
    async dispose() {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Reads what is left of a streamed body, as text. */
export async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
    text += decoder.decode(chunk.value, { stream: true });
  return text + decoder.decode();
}

/** Reads an SSE body into its data payloads (comments dropped). */
export function sseData(text: string): string[] {
  return text
    .split("\n\n")
    .map((frame) => frame.trim())
    .filter((frame) => frame.startsWith("data: "))
    .map((frame) => frame.slice("data: ".length));
}
