import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../core/index.js";
import { demoModelPath, ModelCatalog, prepareModelsLocation } from "./index.js";

const storiesPath = resolve(process.cwd(), "../shared/models/stories260K.gguf");
const sha256Of = (path: string) => execFileSync("sha256sum", [path], { encoding: "utf8" }).split(" ")[0]!;

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "rawrxd-sources-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function caught(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("prepareModelsLocation", () => {
  it("a .gguf file is served alone, from its own folder", async () => {
    await copyFile(storiesPath, join(root, "stories260K.gguf"));
    expect(await prepareModelsLocation(join(root, "stories260K.gguf"))).toEqual({
      kind: "file",
      modelsDir: await realpath(root),
      fileName: "stories260K.gguf",
    });
  });

  it("a link to a .gguf file elsewhere is followed to that file", async () => {
    await mkdir(join(root, "store"));
    await copyFile(storiesPath, join(root, "store", "stories260K.gguf"));
    await symlink(join(root, "store", "stories260K.gguf"), join(root, "current.gguf"));
    expect(await prepareModelsLocation(join(root, "current.gguf"))).toEqual({
      kind: "file",
      modelsDir: await realpath(join(root, "store")),
      fileName: "stories260K.gguf",
    });
  });

  it("a missing folder is created and reported as created", async () => {
    expect(await prepareModelsLocation(join(root, "nope"))).toEqual({
      kind: "folder",
      modelsDir: join(root, "nope"),
      wasCreated: true,
    });
    expect(await prepareModelsLocation(join(root, "nope"))).toMatchObject({ wasCreated: false });
  });

  it("refuses a missing .gguf file and a file that is not a model, without creating anything", async () => {
    const missing = await caught(prepareModelsLocation(join(root, "typo.gguf")));
    expect(missing.message).toContain(`Model file ${join(root, "typo.gguf")} does not exist`);
    await writeFile(join(root, "notes.txt"), "hello");
    const notModel = await caught(prepareModelsLocation(join(root, "notes.txt")));
    expect(notModel.message).toContain("neither a folder nor a .gguf file");
    expect(await readdir(root)).toEqual(["notes.txt"]);
  });
});

describe("ModelCatalog serving one file", () => {
  it("lists and resolves only that file, and writes nothing beside it", async () => {
    await copyFile(storiesPath, join(root, "stories260K.gguf"));
    await copyFile(storiesPath, join(root, "other.gguf"));
    const catalog = new ModelCatalog({ modelsDir: root, onlyFileName: "stories260K.gguf" });
    const models = await catalog.list();
    expect(models.map((model) => model.name)).toEqual(["stories260K"]);
    expect(models[0]!.digest).toBe(sha256Of(storiesPath));
    expect((await catalog.resolveFile("stories260K")).path).toBe(join(root, "stories260K.gguf"));
    const error = await caught(catalog.resolve("other"));
    expect(error.code).toBe("model-not-found");
    expect(error.message).toContain('serves only "stories260K"');
    expect(await catalog.contents()).toEqual({ fileCount: 1, demoModelName: undefined });
    expect((await readdir(root)).sort()).toEqual(["other.gguf", "stories260K.gguf"]);
  });
});

describe("ModelCatalog with the demo model", () => {
  it("the bundled demo model is the shared stories260K", () => {
    expect(sha256Of(demoModelPath)).toBe(sha256Of(storiesPath));
  });

  it("offers the demo, read in place, while the folder has no models, and never copies it", async () => {
    const modelsDir = join(root, "models");
    await mkdir(modelsDir);
    const catalog = new ModelCatalog({ modelsDir, demoModelPath });
    const models = await catalog.list();
    expect(models.map((model) => [model.name, model.isDemo, model.path])).toEqual([
      ["stories260K", true, demoModelPath],
    ]);
    expect((await catalog.resolveFile("stories260K")).path).toBe(demoModelPath);
    expect(await catalog.contents()).toEqual({ fileCount: 0, demoModelName: "stories260K" });
    expect(await readdir(modelsDir)).toEqual([]);

    await copyFile(storiesPath, join(modelsDir, "mine.gguf"));
    expect((await catalog.list()).map((model) => [model.name, model.isDemo])).toEqual([["mine", undefined]]);
    expect((await caught(catalog.resolve("stories260K"))).code).toBe("model-not-found");
    expect(await catalog.contents()).toEqual({ fileCount: 1, demoModelName: undefined });
  });

  it("offers nothing without the demo path (--no-demo-model)", async () => {
    const catalog = new ModelCatalog({ modelsDir: root });
    expect(await catalog.list()).toEqual([]);
    expect(await catalog.contents()).toEqual({ fileCount: 0, demoModelName: undefined });
  });
});

describe("model names are case-sensitive", () => {
  it("a name that differs only in case gets 'did you mean'", async () => {
    await copyFile(storiesPath, join(root, "stories260K.gguf"));
    const error = await caught(new ModelCatalog({ modelsDir: root }).resolve("Stories260k"));
    expect(error.code).toBe("model-not-found");
    expect(error.message).toBe(
      'Model "Stories260k" not found; did you mean "stories260K"? Model names are case-sensitive.',
    );
  });
});
