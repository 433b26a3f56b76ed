/**
 * Issue #10, the models folder as a new user meets it: `--models FILE` (llama-server's -m),
 * a mistyped folder, the bundled demo model on a first run, and model names that differ in case.
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { loadConfig } from "../../src/config/index.js";
import type { Logger } from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import { baseFlags, makeHome, postJson, type Json } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Started {
  server: RunningServer;
  warnings: string[];
  home: string;
  modelsDir: string;
}

/** A server on a fresh home holding `modelNames`, with `flags` over the test defaults. */
async function start(modelNames: string[], flags: (paths: { home: string; modelsDir: string }) => object) {
  const paths = makeHome(modelNames);
  cleanups.push(async () => rmSync(paths.home, { recursive: true, force: true }));
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message) => warnings.push(message) };
  const config = loadConfig({
    flags: { ...baseFlags(paths.home, paths.modelsDir), ...flags(paths) },
    env: {},
    readConfigFile: false,
  });
  const server = await startServer(config, { engine: new FakeEngine(), logger, handleSignals: false });
  cleanups.push(() => server.close());
  return { server, warnings, ...paths } satisfies Started;
}

async function modelIds(server: RunningServer): Promise<[string, string][]> {
  const body = (await (await fetch(`${server.url}/v1/models`)).json()) as {
    data: { id: string; owned_by: string }[];
  };
  return body.data.map((model) => [model.id, model.owned_by]);
}

describe("--models naming one .gguf file (llama-server's -m)", () => {
  it("serves that file as the only model", async () => {
    const { server, modelsDir } = await start(["alpha", "beta"], ({ modelsDir }) => ({
      models: join(modelsDir, "alpha.gguf"),
    }));
    expect(server.models).toMatchObject({ isSingleFile: true, count: 1 });
    expect(await modelIds(server)).toEqual([["alpha", "rawrxd"]]);
    const response = await postJson(`${server.url}/api/generate`, {
      model: "alpha",
      prompt: "hi",
      stream: false,
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).done).toBe(true);
    const other = await postJson(`${server.url}/api/generate`, {
      model: "beta",
      prompt: "hi",
      stream: false,
    });
    expect(other.status).toBe(404);
    expect(readdirSync(modelsDir).sort()).toEqual(["alpha.gguf", "beta.gguf"]);
  });

  it("refuses a .gguf path that does not exist at start-up", async () => {
    await expect(start([], ({ modelsDir }) => ({ models: join(modelsDir, "typo.gguf") }))).rejects.toThrow(
      /Model file .*typo\.gguf does not exist/,
    );
  });
});

describe("a models folder that does not exist", () => {
  it("is created, warned about, and counted as 0 models", async () => {
    const { server, warnings, home } = await start([], ({ home }) => ({
      models: join(home, "nope"),
      "no-demo-model": "true",
    }));
    expect(server.models).toEqual({
      source: join(home, "nope"),
      isSingleFile: false,
      count: 0,
      demoModelName: undefined,
    });
    expect(warnings).toContainEqual(
      expect.stringContaining(`Models folder ${join(home, "nope")} did not exist`),
    );
    expect(await modelIds(server)).toEqual([]);
  });
});

describe("the bundled demo model on a first run", () => {
  it("is offered, marked as a demo, while the folder is empty, and never copied into it", async () => {
    const { server, modelsDir } = await start([], () => ({}));
    expect(server.models).toMatchObject({ count: 0, demoModelName: "stories260K" });
    expect(await modelIds(server)).toEqual([["stories260K", "rawrxd-demo"]]);
    const tags = (await (await fetch(`${server.url}/api/tags`)).json()) as {
      models: { name: string; demo?: boolean }[];
    };
    expect(tags.models.map((model) => [model.name, model.demo])).toEqual([["stories260K", true]]);
    const response = await postJson(`${server.url}/v1/chat/completions`, {
      model: "stories260K",
      messages: [{ role: "user", content: "Tell me a story" }],
    });
    expect(response.status).toBe(200);
    expect(readdirSync(modelsDir)).toEqual([]);

    const io = createRecordingIo({ env: { RAWRXD_URL: server.url } });
    expect(await main(["ls"], io)).toBe(0);
    expect(io.output()).toMatch(/^stories260K\s/m);
    expect(io.output()).toContain("stories260K is the bundled demo model");
  });

  it("is not offered with --no-demo-model", async () => {
    const { server } = await start([], () => ({ "no-demo-model": "true" }));
    expect(await modelIds(server)).toEqual([]);
  });
});

describe("model names that differ only in case", () => {
  it("get a 404 with 'did you mean' in both dialects", async () => {
    const { server } = await start(["stories260K"], () => ({}));
    const hint = 'did you mean "stories260K"?';
    const openai = await postJson(`${server.url}/v1/chat/completions`, {
      model: "Stories260k",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(openai.status).toBe(404);
    expect(((await openai.json()) as Json).error.message).toContain(hint);
    const ollama = await postJson(`${server.url}/api/generate`, { model: "Stories260k", prompt: "hi" });
    expect(ollama.status).toBe(404);
    expect(((await ollama.json()) as Json).error).toContain(hint);
  });
});
