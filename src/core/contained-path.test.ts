import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isInsideFolder, locateInsideFolder } from "./index.js";

let folder: string;
let outside: string;

beforeAll(() => {
  folder = realpathSync(mkdtempSync(join(tmpdir(), "rawrxd-contained-")));
  outside = realpathSync(mkdtempSync(join(tmpdir(), "rawrxd-contained-out-")));
  mkdirSync(join(folder, "sub"));
  writeFileSync(join(folder, "sub", "a.txt"), "abc");
  writeFileSync(join(outside, "b.txt"), "outside");
  symlinkSync(join(folder, "sub", "a.txt"), join(folder, "link-in.txt"));
  symlinkSync(join(outside, "b.txt"), join(folder, "link-out.txt"));
  symlinkSync(outside, join(folder, "dir-out"));
  symlinkSync(join(folder, "missing.txt"), join(folder, "dangling.txt"));
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe("locateInsideFolder", () => {
  it("finds files below the folder, and links whose target is inside, by their real path", async () => {
    expect(await locateInsideFolder(folder, "sub/a.txt")).toMatchObject({
      kind: "found",
      file: { kind: "file", realRelativePath: join("sub", "a.txt"), sizeBytes: 3 },
    });
    expect(await locateInsideFolder(folder, "link-in.txt")).toMatchObject({
      kind: "found",
      file: { realPath: join(folder, "sub", "a.txt") },
    });
  });

  it("never resolves to anything outside: links out, linked folders out, .. and absolute paths", async () => {
    for (const path of ["link-out.txt", "dir-out/b.txt", "../" + outside.split("/").pop() + "/b.txt"])
      expect((await locateInsideFolder(folder, path)).kind, path).toBe("outside-folder");
    expect((await locateInsideFolder(folder, join(outside, "b.txt"))).kind).toBe("missing");
    expect((await locateInsideFolder(folder, ".")).kind).toBe("not-a-file");
  });

  it("tells missing files, dangling links and folders apart; folders only when asked for", async () => {
    expect((await locateInsideFolder(folder, "nope.txt")).kind).toBe("missing");
    expect((await locateInsideFolder(folder, "dangling.txt")).kind).toBe("missing");
    expect((await locateInsideFolder(folder, "sub")).kind).toBe("not-a-file");
    expect(await locateInsideFolder(folder, "sub", { allowDirectories: true })).toMatchObject({
      kind: "found",
      file: { kind: "directory" },
    });
    expect((await locateInsideFolder(folder, "dir-out", { allowDirectories: true })).kind).toBe(
      "outside-folder",
    );
  });

  it("isInsideFolder: strictly below, never the folder itself or a sibling with the same prefix", () => {
    expect(isInsideFolder("/a/b", "/a/b/c")).toBe(true);
    expect(isInsideFolder("/a/b", "/a/b")).toBe(false);
    expect(isInsideFolder("/a/b", "/a/bc")).toBe(false);
  });
});
