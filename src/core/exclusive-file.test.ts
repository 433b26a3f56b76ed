import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileExclusively } from "./exclusive-file.js";

describe("createFileExclusively", () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), "rawrxd-exclusive-"));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it("a reader never finds the file without its whole text", async () => {
    const text = JSON.stringify({ holder: "x".repeat(256 * 1024) });
    const lengths = new Set<number>();
    for (let round = 0; round < 30; round++) {
      const path = join(folder, `lock-${round}`);
      let isCreated = false;
      const creating = createFileExclusively(path, text).then((created) => (isCreated = created));
      while (!isCreated) {
        const seen = await readFile(path, "utf8").catch(() => undefined);
        if (seen !== undefined) lengths.add(seen.length);
      }
      await creating;
      lengths.add((await readFile(path, "utf8")).length);
    }
    expect([...lengths]).toEqual([text.length]);
  });

  it("of many creators at once, one creates the file and keeps its text; no staging file is left", async () => {
    const path = join(folder, ".lock");
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, index) => createFileExclusively(path, `creator ${index}`)),
    );
    const winner = results.indexOf(true);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await readFile(path, "utf8")).toBe(`creator ${winner}`);
    expect(await createFileExclusively(path, "late")).toBe(false);
    expect(readdirSync(folder)).toEqual([".lock"]);
  });
});
