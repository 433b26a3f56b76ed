/**
 * --engine-build on the real engine: which llama.cpp build a runner loads (docs/decisions/0012).
 * The local OpenMP build exists only where `npm run engine:build` ran (not in CI), so each case
 * asserts what must happen on this machine, with or without it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { hasOpenmpBuild } from "../../src/engine/index.js";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";

async function engineBuildOf(test: ModelTestServer): Promise<string> {
  const response = await postJson(`${test.url}/api/generate`, {
    model: "stories260K",
    prompt: "Once upon a time",
    stream: false,
    options: { num_predict: 4 },
  });
  expect(response.status, await response.clone().text()).toBe(200);
  const report = (await (await fetch(`${test.url}/v1/gpu`)).json()) as { models: { engine_build: string }[] };
  return report.models[0]!.engine_build;
}

describe("--engine-build", () => {
  const isBuilt = hasOpenmpBuild();
  let test: ModelTestServer | undefined;
  afterEach(async () => {
    await test?.dispose();
    test = undefined;
  });

  it("prebuilt loads node-llama-cpp's npm binary", async () => {
    test = await startModelServer({ "engine-build": "prebuilt", gpu: "cpu" });
    expect(await engineBuildOf(test)).toBe("prebuilt");
  });

  it(`auto loads the local OpenMP build when there is one, else the prebuilt (here: ${isBuilt ? "built" : "not built"})`, async () => {
    test = await startModelServer({ "engine-build": "auto", gpu: "cpu" });
    expect(await engineBuildOf(test)).toBe(isBuilt ? "localBuild" : "prebuilt");
  });

  it.runIf(!isBuilt)("openmp without the local build fails the load and says how to build it", async () => {
    test = await startModelServer({ "engine-build": "openmp", gpu: "cpu" });
    const response = await postJson(`${test.url}/api/generate`, {
      model: "stories260K",
      prompt: "Once upon a time",
      stream: false,
    });
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(await response.text()).toContain("npm run engine:build");
  });

  it.runIf(isBuilt)("openmp loads the local build and generates", async () => {
    test = await startModelServer({ "engine-build": "openmp", gpu: "cpu" });
    expect(await engineBuildOf(test)).toBe("localBuild");
  });
});
