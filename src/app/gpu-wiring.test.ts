import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeEngine, type InferenceEngine, type LoadSpec } from "../engine/index.js";
import { readGgufHeader } from "../gguf/index.js";
import { memoryShapeOf } from "../gpu/index.js";
import type { ModelFile } from "../models/index.js";
import { loadConfig } from "../config/index.js";
import { runnerLoadPath, runnerTuningOf } from "./gpu-wiring.js";

const storiesPath = resolve(process.cwd(), "../shared/models/stories260K.gguf");

describe("runnerLoadPath", () => {
  it("sends the shape of the header the catalog resolved with the load, and the tuning", async () => {
    const info = await readGgufHeader(storiesPath);
    const file: ModelFile = {
      name: "stories260K",
      path: storiesPath,
      sizeBytes: 1,
      modifiedAt: new Date(0),
      fileIdentity: "1:1:1:0",
      info,
    };
    const fake = new FakeEngine();
    const specs: LoadSpec[] = [];
    const recording: InferenceEngine = {
      load: (spec, signal) => {
        specs.push(spec);
        return fake.load(spec, signal);
      },
    };
    const tuning = {
      requestedGpu: "cpu",
      gpuLayers: "auto",
      gpuMarginBytes: -1,
      cacheDirectory: undefined,
    } as const;
    const path = runnerLoadPath({ engine: recording, tuning, resolve: async () => file });
    const resolved = await path.models.resolve("stories260K");
    const base = { name: resolved.name, contextTokens: 256, parallel: 1, threads: 1, gpu: "cpu" as const };
    await path.engine.load({ ...base, path: resolved.path, loadTimeoutMs: 1000 });
    // A path the resolver never answered for gets no shape: RunnerProcess reads that header itself.
    await path.engine.load({ ...base, path: "/elsewhere/other.gguf", loadTimeoutMs: 1000 });
    expect(specs[0]).toMatchObject({ tuning, shape: memoryShapeOf(info) });
    expect(specs[1]!.shape).toBeUndefined();
  });
});

describe("runnerTuningOf", () => {
  const configWith = (flags: Record<string, string>) => loadConfig({ flags, env: {}, readConfigFile: false });

  it("passes --prompt-cache and --prompt-cache-size to the runners; no folder means off", () => {
    expect(runnerTuningOf(configWith({})).promptCacheDirectory).toBeUndefined();
    const tuning = runnerTuningOf(
      configWith({ "prompt-cache": "/var/cache/rawrxd", "prompt-cache-size": "512MiB" }),
    );
    expect(tuning.promptCacheDirectory).toBe("/var/cache/rawrxd");
    expect(tuning.promptCacheMaxBytes).toBe(512 * 1024 * 1024);
  });
});
