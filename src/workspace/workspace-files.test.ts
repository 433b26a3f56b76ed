import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../core/index.js";
import { Workspace } from "./index.js";

let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "rawrxd-workspace-"));
});

afterEach(() => rmSync(folder, { recursive: true, force: true }));

const codeOf = (promise: Promise<unknown>): Promise<string | undefined> =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof AppError ? error.code : String(error)),
  );

describe("Workspace", () => {
  it("refuses to open a folder that is not there", async () => {
    expect(await codeOf(Workspace.open({ root: join(folder, "nope"), maxFileBytes: 100 }))).toBe(
      "bad-request",
    );
  });

  it("lists breadth first and says when it stopped at the entry or depth limit", async () => {
    mkdirSync(join(folder, "a", "b", "c"), { recursive: true });
    writeFileSync(join(folder, "a", "b", "c", "deep.txt"), "x");
    for (const name of ["1.txt", "2.txt", "3.txt"]) writeFileSync(join(folder, name), name);
    const all = await (await Workspace.open({ root: folder, maxFileBytes: 100 })).tree();
    expect(all.truncated).toBe(false);
    expect(all.entries.map((entry) => entry.path)).toEqual([
      "1.txt",
      "2.txt",
      "3.txt",
      "a",
      "a/b",
      "a/b/c",
      "a/b/c/deep.txt",
    ]);
    const few = await (await Workspace.open({ root: folder, maxFileBytes: 100, maxTreeEntries: 3 })).tree();
    expect(few).toEqual({
      truncated: true,
      entries: [
        { path: "1.txt", type: "file", sizeBytes: 5 },
        { path: "2.txt", type: "file", sizeBytes: 5 },
        { path: "3.txt", type: "file", sizeBytes: 5 },
      ],
    });
  });

  it("keeps a file's mode across a save and leaves no temporary file behind", async () => {
    writeFileSync(join(folder, "run.sh"), "echo 1\n");
    chmodSync(join(folder, "run.sh"), 0o755);
    const workspace = await Workspace.open({ root: folder, maxFileBytes: 100 });
    const file = await workspace.read("run.sh");
    const version = await workspace.write("run.sh", "echo 2\n", file.version.sha256);
    expect(version.sizeBytes).toBe(7);
    expect(statSync(join(folder, "run.sh")).mode & 0o777).toBe(0o755);
    expect(readdirSync(folder)).toEqual(["run.sh"]);
  });

  it("refuses folders as files, and a save whose file disappeared", async () => {
    mkdirSync(join(folder, "dir"));
    writeFileSync(join(folder, "gone.txt"), "here");
    const workspace = await Workspace.open({ root: folder, maxFileBytes: 100 });
    expect(await codeOf(workspace.read("dir"))).toBe("bad-request");
    const file = await workspace.read("gone.txt");
    rmSync(join(folder, "gone.txt"));
    expect(await codeOf(workspace.write("gone.txt", "again", file.version.sha256))).toBe("conflict");
  });
});
