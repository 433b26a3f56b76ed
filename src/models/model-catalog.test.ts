import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError, systemTime } from "../core/index.js";
import { hashFileSha256, type HashFile } from "./file-digest.js";
import { manifestFileName } from "./manifest.js";
import { ModelCatalog } from "./model-catalog.js";

const storiesPath = resolve(process.cwd(), "../shared/models/stories260K.gguf");
const storiesSha256 = execFileSync("sha256sum", [storiesPath], { encoding: "utf8" }).split(" ")[0]!;

let root: string;
let modelsDir: string;
let hashedPaths: string[];
const countingHash: HashFile = async (path, options) => {
  hashedPaths.push(path);
  return hashFileSha256(path, options);
};

async function expectAppError(promise: Promise<unknown>, code: string): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  return error as AppError;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "rawrxd-catalog-"));
  modelsDir = join(root, "models");
  hashedPaths = [];
  await mkdir(modelsDir);
  await copyFile(storiesPath, join(modelsDir, "stories260K.gguf"));
  await writeFile(join(modelsDir, "broken.gguf"), "this is not a GGUF file, just text\n".repeat(4));
  await writeFile(join(modelsDir, "half.gguf.partial"), "partial bytes");
  await writeFile(join(modelsDir, ".hidden.gguf"), "hidden");
  await mkdir(join(modelsDir, "folder.gguf"));
  await copyFile(storiesPath, join(root, "outside.gguf"));
  await symlink(join(root, "outside.gguf"), join(modelsDir, "escape.gguf"));
  await symlink("stories260K.gguf", join(modelsDir, "alias.gguf"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("ModelCatalog.list", () => {
  it("lists valid *.gguf files by name, leaving out partials, hidden files, folders and escaping links", async () => {
    const catalog = new ModelCatalog({ modelsDir, hashFile: countingHash });
    const models = await catalog.list();
    expect(models.map((model) => model.name)).toEqual(["alias", "stories260K"]);
    const stories = models[1]!;
    expect(stories.path).toBe(join(modelsDir, "stories260K.gguf"));
    expect(stories.digest).toBe(storiesSha256);
    expect(stories.sizeBytes).toBeGreaterThan(1_000_000);
    expect(stories.modifiedAt).toBeInstanceOf(Date);
    expect(stories.info.architecture).toBe("llama");
    expect(stories.info.parameterCount).toBeGreaterThan(200_000);
  });

  it("reports an invalid header, a folder and an escaping link in scan() instead of failing the listing", async () => {
    const scan = await new ModelCatalog({ modelsDir }).scan();
    expect(scan.models).toHaveLength(2);
    expect(scan.invalid.map(({ name, errorCode }) => [name, errorCode])).toEqual([
      ["broken", "model-invalid"],
      ["escape", "forbidden"],
      ["folder", "model-invalid"],
    ]);
    expect(scan.invalid[0]!.error.length).toBeGreaterThan(10);
    expect(scan.invalid[2]!.error).toContain("is a directory in the models folder");
  });

  it("creates a missing models folder", async () => {
    const catalog = new ModelCatalog({ modelsDir: join(root, "new", "models") });
    expect(await catalog.list()).toEqual([]);
  });
});

describe("ModelCatalog.resolve", () => {
  it("accepts name, name:latest and name.gguf", async () => {
    const catalog = new ModelCatalog({ modelsDir });
    for (const name of ["stories260K", "stories260K:latest", "stories260K.gguf"]) {
      const entry = await catalog.resolve(name);
      expect(entry.name).toBe("stories260K");
      expect(entry.digest).toBe(storiesSha256);
    }
  });

  it.each(["../x", "/etc/passwd", "a/b", "..", "..\\x", "", "x\0"])(
    "rejects %j as bad-request",
    async (name) => {
      const error = await expectAppError(new ModelCatalog({ modelsDir }).resolve(name), "bad-request");
      expect(error.message).toContain("is not allowed");
    },
  );

  it("treats %2e%2e as a literal name that does not exist", async () => {
    await expectAppError(new ModelCatalog({ modelsDir }).resolve("%2e%2e"), "model-not-found");
  });

  it("names the model, the folder and the available models when unknown", async () => {
    const error = await expectAppError(new ModelCatalog({ modelsDir }).resolve("nope"), "model-not-found");
    expect(error.message).toContain('Model "nope" not found in ' + modelsDir);
    expect(error.message).toContain("Available: alias, broken, stories260K.");
    expect(error.message).toContain("rawrxd pull");
  });

  it("refuses a link that points outside the folder", async () => {
    const error = await expectAppError(new ModelCatalog({ modelsDir }).resolve("escape"), "forbidden");
    expect(error.message).not.toContain("outside.gguf");
  });

  it("does not resolve partials, hidden files or folders", async () => {
    const catalog = new ModelCatalog({ modelsDir });
    await expectAppError(catalog.resolve("half.gguf.partial"), "model-not-found");
    await expectAppError(catalog.resolve(".hidden"), "model-not-found");
    // A folder named like a model is refused by name, so its owner learns why (#15).
    const folder = await expectAppError(catalog.resolve("folder"), "model-invalid");
    expect(folder.message).toContain(
      'Model "folder" is a directory in the models folder, not a regular file',
    );
  });

  it("throws the header reader's error for an invalid file", async () => {
    const error = await expectAppError(new ModelCatalog({ modelsDir }).resolve("broken"), "model-invalid");
    expect(error.message).toContain("broken.gguf");
  });
});

describe("ModelCatalog digests", () => {
  it("shares one hash between concurrent callers and caches it", async () => {
    const catalog = new ModelCatalog({ modelsDir, hashFile: countingHash });
    await Promise.all([catalog.resolve("stories260K"), catalog.resolve("stories260K"), catalog.list()]);
    await catalog.list();
    // alias.gguf and stories260K.gguf are the same file: one hash covers both.
    expect(hashedPaths).toHaveLength(1);
  });

  it("persists digests in the manifest so a new catalog does not rehash", async () => {
    await new ModelCatalog({ modelsDir, hashFile: countingHash }).list();
    expect(hashedPaths).toHaveLength(1);
    const manifest = JSON.parse(await readFile(join(modelsDir, manifestFileName), "utf8"));
    expect(manifest.files["stories260K.gguf"].sha256).toBe(storiesSha256);

    hashedPaths = [];
    const restarted = new ModelCatalog({ modelsDir, hashFile: countingHash });
    expect((await restarted.resolve("stories260K")).digest).toBe(storiesSha256);
    expect(hashedPaths).toEqual([]);
  });

  it("rehashes a file whose mtime changed", async () => {
    const catalog = new ModelCatalog({ modelsDir, hashFile: countingHash });
    await catalog.resolve("stories260K");
    const nowMs = systemTime.wallNow();
    await utimes(join(modelsDir, "stories260K.gguf"), new Date(nowMs), new Date(nowMs + 60_000));
    await catalog.resolve("stories260K");
    expect(hashedPaths).toHaveLength(2);
  });

  it("resolveFile returns the header without hashing", async () => {
    const catalog = new ModelCatalog({ modelsDir, hashFile: countingHash });
    const file = await catalog.resolveFile("stories260K:latest");
    expect(file.info.architecture).toBe("llama");
    expect(file).not.toHaveProperty("digest");
    expect(hashedPaths).toEqual([]);
    await expectAppError(catalog.resolveFile("../x"), "bad-request");
  });

  it("re-checks a file it found before: a swap, a rewrite, a removal or an escaping link under its name is seen", async () => {
    const catalog = new ModelCatalog({ modelsDir });
    const path = join(modelsDir, "stories260K.gguf");
    const first = await catalog.resolveFile("stories260K");
    expect((await catalog.resolveFile("stories260K")).fileIdentity).toBe(first.fileIdentity);
    // Swapped: a new file renamed over the name (new inode).
    await copyFile(storiesPath, join(modelsDir, "next.tmp"));
    await rename(join(modelsDir, "next.tmp"), path);
    const swapped = await catalog.resolveFile("stories260K");
    expect(swapped.fileIdentity).not.toBe(first.fileIdentity);
    // Rewritten in place into an invalid file (same inode, new size).
    await writeFile(path, "not a GGUF file any more\n".repeat(8));
    await expectAppError(catalog.resolveFile("stories260K"), "model-invalid");
    // Replaced by a link out of the folder: refused, not served from the earlier lookup.
    await rm(path);
    await symlink(join(root, "outside.gguf"), path);
    await expectAppError(catalog.resolveFile("stories260K"), "forbidden");
    await rm(path);
    await expectAppError(catalog.resolveFile("stories260K"), "model-not-found");
  });

  it("survives a corrupt manifest", async () => {
    await writeFile(join(modelsDir, manifestFileName), "{ not json");
    const entry = await new ModelCatalog({ modelsDir }).resolve("stories260K");
    expect(entry.digest).toBe(storiesSha256);
    const manifest = JSON.parse(await readFile(join(modelsDir, manifestFileName), "utf8")) as {
      files: Record<string, unknown>;
    };
    expect(Object.keys(manifest.files)).toEqual(["stories260K.gguf"]);
  });
});
