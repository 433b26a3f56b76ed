import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../core/index.js";
import { FakeEngine, type InferenceEngine, type LoadSpec } from "../engine/index.js";
import { ensureSyntheticModelAt, readGgufHeader } from "../gguf/index.js";
import type { ModelFile } from "../models/index.js";
import { runnerLoadPath } from "./gpu-wiring.js";

const storiesPath = resolve(process.cwd(), "../shared/models/stories260K.gguf");
const tuning = {
  requestedGpu: "cpu",
  gpuLayers: "auto",
  gpuMarginBytes: -1,
  cacheDirectory: undefined,
} as const;

describe("--draft-model on the load path", () => {
  let dir: string;
  const files = new Map<string, ModelFile>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rawrxd-draft-"));
    const tinyPath = join(dir, "synthetic-tiny.gguf");
    await ensureSyntheticModelAt("tiny", tinyPath);
    for (const [name, path] of [
      ["stories260K", storiesPath],
      ["synthetic-tiny", tinyPath],
    ] as const) {
      const info = await readGgufHeader(path);
      files.set(name, { name, path, sizeBytes: 1, modifiedAt: new Date(0), fileIdentity: name, info });
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function loadPath(draftModel: string): { path: ReturnType<typeof runnerLoadPath>; specs: LoadSpec[] } {
    const fake = new FakeEngine();
    const specs: LoadSpec[] = [];
    const recording: InferenceEngine = {
      load: (spec, signal) => {
        specs.push(spec);
        return fake.load(spec, signal);
      },
    };
    const resolveFile = (name: string): Promise<ModelFile> => {
      const file = files.get(name);
      if (file === undefined)
        return Promise.reject(new AppError("model-not-found", `Model "${name}" not found.`));
      return Promise.resolve(file);
    };
    return { path: runnerLoadPath({ engine: recording, tuning, resolve: resolveFile, draftModel }), specs };
  }

  const base = { contextTokens: 256, parallel: 1, threads: 1, gpu: "cpu" as const, loadTimeoutMs: 1000 };

  it("passes the draft's name and path to the runner when the vocabularies match", async () => {
    const { path, specs } = loadPath("stories260K");
    await path.engine.load({ ...base, name: "stories260K", path: storiesPath });
    expect(specs[0]!.tuning?.draftModel).toEqual({ name: "stories260K", path: storiesPath });
  });

  it("loads without a draft when none is set", async () => {
    const { path, specs } = loadPath("");
    await path.engine.load({ ...base, name: "stories260K", path: storiesPath });
    expect(specs[0]!.tuning?.draftModel).toBeUndefined();
  });

  it("refuses a draft of another vocabulary, naming both models, before the runner starts", async () => {
    const { path, specs } = loadPath("synthetic-tiny");
    const error = await path.engine
      .load({ ...base, name: "stories260K", path: storiesPath })
      .catch((error: unknown) => error);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("model-load-failed");
    expect((error as AppError).message).toMatch(
      /^Model "stories260K" was not loaded: the draft model "synthetic-tiny" \(--draft-model\) cannot draft for it because their vocabularies differ: \d+ of their 512 token texts differ/,
    );
    expect((error as AppError).message).not.toContain(dir);
    expect(specs).toHaveLength(0);
  });

  it("says which draft model is missing", async () => {
    const { path } = loadPath("nope");
    const error = await path.engine
      .load({ ...base, name: "stories260K", path: storiesPath })
      .catch((error: unknown) => error);
    expect((error as AppError).message).toContain('its draft model "nope" (--draft-model) is not usable');
  });
});
