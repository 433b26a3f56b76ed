import { describe, expect, it } from "vitest";
import { AppError, silentLogger } from "../core/index.js";
import type { ModelFile } from "../models/index.js";
import { guardModelFileChanges } from "./model-file-guard.js";

function fileWith(identity: string): ModelFile {
  return {
    name: "alpha",
    path: "/models/alpha.gguf",
    sizeBytes: 1,
    modifiedAt: new Date(0),
    fileIdentity: identity,
    info: {} as ModelFile["info"],
  };
}

function guarded(files: (ModelFile | AppError)[]): {
  resolve: (name: string) => Promise<ModelFile>;
  unloads: string[];
} {
  const unloads: string[] = [];
  let index = 0;
  const resolve = guardModelFileChanges({
    resolve: async () => {
      const next = files[Math.min(index++, files.length - 1)]!;
      if (next instanceof AppError) throw next;
      return next;
    },
    unload: async (name) => {
      unloads.push(name);
      return true;
    },
    logger: silentLogger,
  });
  return { resolve, unloads };
}

describe("guardModelFileChanges", () => {
  it("keeps the runner while the file's identity stays the same", async () => {
    const { resolve, unloads } = guarded([fileWith("1:10:100:5"), fileWith("1:10:100:5")]);
    await resolve("alpha");
    await resolve("alpha");
    expect(unloads).toEqual([]);
  });

  it("unloads the runner once when the file changed, before the request gets the new file", async () => {
    const { resolve, unloads } = guarded([
      fileWith("1:10:100:5"),
      fileWith("1:11:100:5"),
      fileWith("1:11:100:5"),
    ]);
    await resolve("alpha");
    expect((await resolve("alpha")).fileIdentity).toBe("1:11:100:5");
    await resolve("alpha");
    expect(unloads).toEqual(["alpha"]);
  });

  it("passes the catalog's error for a deleted or invalid file through, unloading nothing", async () => {
    const gone = new AppError("model-not-found", 'Model "alpha" not found.');
    const { resolve, unloads } = guarded([fileWith("1:10:100:5"), gone]);
    await resolve("alpha");
    await expect(resolve("alpha")).rejects.toBe(gone);
    expect(unloads).toEqual([]);
  });
});
