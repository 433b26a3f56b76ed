/**
 * Faults on the real engine: a runner killed with SIGKILL mid-stream, a client that disconnects
 * mid-stream, and model files that would crash llama.cpp. The server must stay up throughout.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait-for.js";
import {
  postJson,
  readRest,
  sseData,
  startModelServer,
  storiesPath,
  type ModelTestServer,
} from "./helpers.js";

interface PsModel {
  name: string;
  pid: number | null;
  sequences: { total: number; active: number; queued: number };
}

async function loadedModels(url: string): Promise<PsModel[]> {
  const response = await fetch(`${url}/api/ps`);
  return ((await response.json()) as { models: PsModel[] }).models;
}

/** Streams `body` to `path`, kills the runner after the first chunk; the rest of the stream. */
async function killRunnerMidStream(
  url: string,
  path: string,
  body: unknown,
): Promise<{ text: string; pid: number }> {
  const response = await postJson(`${url}${path}`, body);
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  const [model] = await loadedModels(url);
  expect(model?.pid).toBeGreaterThan(0);
  process.kill(model!.pid!, "SIGKILL");
  return { text: await readRest(reader), pid: model!.pid! };
}

describe("runner faults on the real engine", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    test = await startModelServer();
    // Invalid models beside the good one.
    const bytes = readFileSync(storiesPath);
    writeFileSync(join(test.modelsDir, "truncated.gguf"), bytes.subarray(0, Math.floor(bytes.length / 2)));
    copyFileSync(storiesPath, join(test.modelsDir, "second.gguf"));
  });
  afterAll(async () => test.dispose());

  it("kill -9 of the runner mid-stream fails that stream with a clear error; the next request reloads", async () => {
    const { text, pid } = await killRunnerMidStream(test.url, "/v1/chat/completions", {
      model: "stories260K",
      messages: [{ role: "user", content: "Tell me a long story" }],
      max_tokens: 400,
      temperature: 0.8,
      stream: true,
    });
    const last = JSON.parse(sseData(text).at(-1)!) as { error?: { message: string; code: string } };
    expect(last.error?.code).toBe("runner-crashed");
    expect(last.error?.message).toMatch(/stories260K.*SIGKILL.*next request reloads/s);

    expect((await fetch(`${test.url}/health`)).status).toBe(200);
    const again = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt: "Once",
      max_tokens: 5,
      temperature: 0,
    });
    expect(again.status).toBe(200);
    const [reloaded] = await loadedModels(test.url);
    expect(reloaded?.pid).not.toBe(pid);
  });

  it("a client that disconnects mid-stream frees its sequence at once", async () => {
    const controller = new AbortController();
    const response = await fetch(`${test.url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({
        model: "stories260K",
        prompt: "Once upon a time",
        options: { num_predict: 450 },
      }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    const busy = (await loadedModels(test.url)).find((model) => model.name === "stories260K");
    expect(busy?.sequences.active).toBe(1);
    controller.abort();
    const free = await waitFor(async () => {
      const model = (await loadedModels(test.url)).find((candidate) => candidate.name === "stories260K");
      return model?.sequences.active === 0 ? model : undefined;
    }, "the aborted request's sequence to be released");
    expect(free.sequences.active).toBe(0);
  });

  it("a truncated GGUF gets a clear error naming the problem and never reaches llama.cpp", async () => {
    const response = await postJson(`${test.url}/api/generate`, { model: "truncated", prompt: "Hi" });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: string };
    expect(body.error).toMatch(/truncated\.gguf/);
    expect(body.error).toMatch(/past the end of the file|truncated|ends/i);
    expect((await fetch(`${test.url}/health`)).status).toBe(200);
  });

  it("serves two models at once, each in its own runner process", async () => {
    const [first, second] = await Promise.all([
      postJson(`${test.url}/v1/completions`, {
        model: "stories260K",
        prompt: "Lily",
        max_tokens: 8,
        temperature: 0,
      }),
      postJson(`${test.url}/v1/completions`, {
        model: "second",
        prompt: "Lily",
        max_tokens: 8,
        temperature: 0,
      }),
    ]);
    const [a, b] = (await Promise.all([first.json(), second.json()])) as { choices: { text: string }[] }[];
    expect(a!.choices[0]!.text).toBe(b!.choices[0]!.text);
    const pids = (await loadedModels(test.url)).map((model) => model.pid);
    expect(new Set(pids).size).toBe(2);
  });
});

describe("a runner's last output", () => {
  let test: ModelTestServer;
  let previousOptions: string | undefined;
  let preloadDir: string;

  beforeAll(async () => {
    // The runner's stderr says what a crash's stack trace would: a server file's path.
    preloadDir = mkdtempSync(join(tmpdir(), "rawrxd-stderr-"));
    const preload = join(preloadDir, "last-words.cjs");
    writeFileSync(
      preload,
      [
        `const lastWords = "Error: boom\\n    at run (/opt/rawrxd-install/src/engine/runner/entry.ts:12:3)\\n";`,
        `process.stderr.write(lastWords);`,
        // A runner asked to load "dies-on-load" ends before it answers. (With a second "message"
        // listener here instead, the mid-stream kill above hung; wrapping emit adds no listener.)
        `const emit = process.emit;`,
        `process.emit = function (name, message, ...rest) {`,
        `  if (name === "message" && message?.type === "load" && message.options.modelPath.includes("dies-on-load")) {`,
        `    process.stderr.write(lastWords);`,
        `    process.exit(3);`,
        `  }`,
        `  return emit.call(this, name, message, ...rest);`,
        `};`,
      ].join("\n"),
    );
    previousOptions = process.env["NODE_OPTIONS"];
    process.env["NODE_OPTIONS"] = `--require ${preload}`;
    test = await startModelServer();
    copyFileSync(storiesPath, join(test.modelsDir, "dies-on-load.gguf"));
  });
  afterAll(async () => {
    if (previousOptions === undefined) delete process.env["NODE_OPTIONS"];
    else process.env["NODE_OPTIONS"] = previousOptions;
    await test.dispose();
    rmSync(preloadDir, { recursive: true, force: true });
  });

  it("stays in the log: a request the runner's death fails reads only how it ended", async () => {
    const { text } = await killRunnerMidStream(test.url, "/v1/completions", {
      model: "stories260K",
      prompt: "Once upon a time",
      max_tokens: 400,
      temperature: 0.8,
      stream: true,
    });
    const last = JSON.parse(sseData(text).at(-1)!) as { error?: { message: string; code: string } };
    expect(last.error?.code).toBe("runner-crashed");
    expect(last.error?.message).toMatch(/stories260K.*SIGKILL/s);
    expect(text).not.toContain("rawrxd-install");
    expect(text).not.toContain("boom");
  });

  it("stays in the log: a load the runner's death fails reads only how it ended", async () => {
    const response = await postJson(`${test.url}/api/generate`, { model: "dies-on-load", prompt: "Hi" });
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ error: expect.stringMatching(/dies-on-load.*exit code 3/s) });
    expect(body).not.toContain("rawrxd-install");
    expect(body).not.toContain("boom");
    expect((await fetch(`${test.url}/health`)).status).toBe(200);
  });
});
