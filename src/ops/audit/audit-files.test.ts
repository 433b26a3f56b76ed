import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSegmentFile } from "./audit-files.js";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function segmentPath(): string {
  const folder = mkdtempSync(join(tmpdir(), "rawrxd-audit-files-"));
  folders.push(folder);
  return join(folder, "segment.jsonl");
}

describe("openSegmentFile (the write synchronous, the fdatasync on the pool)", () => {
  it("appends lines in order, after what the file held", async () => {
    const path = segmentPath();
    const first = await openSegmentFile(path);
    await first.write('{"seq":1}\n');
    await first.datasync();
    await first.close();
    const second = await openSegmentFile(path);
    await second.write('{"seq":2} é\n');
    await second.write('{"seq":3}\n');
    await second.datasync();
    await second.close();
    expect(readFileSync(path, "utf8")).toBe('{"seq":1}\n{"seq":2} é\n{"seq":3}\n');
  });

  it("a failed write rejects its promise instead of throwing", async () => {
    const file = await openSegmentFile(segmentPath());
    await file.close();
    let written: Promise<unknown> | undefined;
    expect(() => (written = file.write("late\n"))).not.toThrow();
    await expect(written).rejects.toBeInstanceOf(Error);
  });
});
