/**
 * Hostile model files (#15 §1): a server on the real engine whose models folder holds a good
 * model (a copy of stories260K) beside the hostile ones, and the checks every case shares: the
 * hostile model's request is refused with a clear 4xx JSON error naming no server path, in
 * bounded time, before any runner starts for it; afterwards the server is healthy and the good
 * model still completes.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, vi } from "vitest";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger, systemTime } from "../../src/core/index.js";
import { createLlamaModelContents, type WriteGgufOptions } from "../../src/gguf/index.js";

export const storiesPath = resolve(process.cwd(), "../shared/models/stories260K.gguf");
export const goodModel = "good";
/** Generous for a busy 2-core CI box: a refusal reads a header, never tensor data. */
export const refusalBoundMs = 5_000;

export interface HostileModelServer {
  server: RunningServer;
  url: string;
  home: string;
  modelsDir: string;
  /** Models for which a runner load started (none may start for a hostile file). */
  loadsStarted: string[];
  dispose(): Promise<void>;
}

export async function startHostileModelServer(
  flags: Record<string, string> = {},
): Promise<HostileModelServer> {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-hostile-"));
  const modelsDir = join(home, "models");
  mkdirSync(modelsDir);
  copyFileSync(storiesPath, join(modelsDir, `${goodModel}.gguf`));
  const config = loadConfig({
    flags: {
      host: "127.0.0.1",
      port: "0",
      home,
      models: modelsDir,
      threads: "1",
      parallel: "2",
      "context-size": "256",
      "engine-build": "prebuilt",
      "shutdown-grace": "1s",
      ...flags,
    },
    env: {},
    readConfigFile: false,
  });
  const server = await startServer(config, { logger: silentLogger, handleSignals: false });
  const loadsStarted: string[] = [];
  server.events.on("model-load-start", ({ model }) => loadsStarted.push(model));
  return {
    server,
    url: server.url,
    home,
    modelsDir,
    loadsStarted,
    async dispose() {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A valid 1-layer llama model of about 70 KB: each hostile case breaks one thing in it. */
export const validContents: WriteGgufOptions = createLlamaModelContents({
  layers: 1,
  embeddingLength: 32,
  headCount: 2,
  headCountKv: 2,
  feedForwardLength: 32,
  vocabSize: 260,
  contextLength: 64,
  tensorType: "f32",
  seed: 11,
});

export interface Refusal {
  status: number;
  /** Error code from src/core/errors.ts. */
  code: string;
  /** What the message must say (the problem, the key, the limit). */
  message: RegExp;
}

/**
 * Asks for `model` in both dialects (OpenAI chat, Ollama generate) and checks the refusal: status,
 * JSON body, code, message, no server path, within `refusalBoundMs`, and no runner started for it.
 */
export async function expectRefused(
  test: HostileModelServer,
  model: string,
  refusal: Refusal,
): Promise<void> {
  const forbidden = [test.modelsDir, test.home, tmpdir(), homedir()];
  const requests = [
    {
      path: "/v1/chat/completions",
      body: { model, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 },
    },
    { path: "/api/generate", body: { model, prompt: "Hi", stream: false, options: { num_predict: 4 } } },
  ];
  const loadsBefore = test.loadsStarted.filter((name) => name === model).length;
  for (const { path, body } of requests) {
    const startedMs = systemTime.monotonicNow();
    const response = await fetch(`${test.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    expect(systemTime.monotonicNow() - startedMs, `${path}: refused in time`).toBeLessThan(refusalBoundMs);
    expect(response.status, `${path}: ${text}`).toBe(refusal.status);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const parsed = JSON.parse(text) as { error: string | { message: string; code: string } };
    const message = typeof parsed.error === "string" ? parsed.error : parsed.error.message;
    if (typeof parsed.error !== "string") expect(parsed.error.code).toBe(refusal.code);
    expect(message, path).toMatch(refusal.message);
    for (const folder of forbidden) expect(text, `${path} names a server path`).not.toContain(folder);
  }
  const loadsAfter = test.loadsStarted.filter((name) => name === model).length;
  expect(loadsAfter, `a runner load started for ${model}`).toBe(loadsBefore);
}

/** /health answers ok and the good model still completes on the real engine. */
export async function expectHealthy(test: HostileModelServer): Promise<void> {
  const health = await fetch(`${test.url}/health`);
  expect(health.status).toBe(200);
  const response = await fetch(`${test.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: goodModel, prompt: "Once upon a time", max_tokens: 8, temperature: 0 }),
  });
  const body = (await response.json()) as {
    choices: { text: string }[];
    usage: { completion_tokens: number };
  };
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body.usage.completion_tokens).toBeGreaterThan(0);
}

/**
 * Runs `read` while watching every Buffer allocation: none may be larger than `maxBytes` (the
 * file's own size, or the reader's chunk), so no length read from the file sizes an allocation.
 */
export async function largestAllocationDuring(read: () => Promise<unknown>): Promise<number> {
  const spies = [
    vi.spyOn(Buffer, "alloc"),
    vi.spyOn(Buffer, "allocUnsafe"),
    vi.spyOn(Buffer, "allocUnsafeSlow"),
  ];
  try {
    await read().catch(() => undefined);
    return Math.max(0, ...spies.flatMap((spy) => spy.mock.calls.map(([size]) => size)));
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}
