/**
 * ADR 0060: bin/rawrxd.js runs dist/ only while it is a build of src/ as it is now.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildStampName, isServerBuildCurrent } from "../../bin/server-build.js";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function checkout(): { root: string; source: string; stamp: string } {
  const root = mkdtempSync(join(tmpdir(), "rawrxd-server-build-"));
  roots.push(root);
  mkdirSync(join(root, "src", "engine", "runner"), { recursive: true });
  const source = join(root, "src", "engine", "runner", "entry.ts");
  writeFileSync(source, "export {};\n");
  return { root, source, stamp: join(root, "dist", buildStampName) };
}

const at = (seconds: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

describe("isServerBuildCurrent", () => {
  it("is false without a build, true after one, and false again once any file under src/ is newer", () => {
    const { root, source, stamp } = checkout();
    utimesSync(source, at(0), at(0));
    expect(isServerBuildCurrent(root)).toBe(false);

    mkdirSync(join(root, "dist"));
    writeFileSync(stamp, "");
    utimesSync(stamp, at(10), at(10));
    expect(isServerBuildCurrent(root)).toBe(true);

    utimesSync(source, at(11), at(11));
    expect(isServerBuildCurrent(root)).toBe(false);
  });

  it("is false when dist/ exists but the build did not finish (no stamp)", () => {
    const { root } = checkout();
    mkdirSync(join(root, "dist", "cli"), { recursive: true });
    writeFileSync(join(root, "dist", "cli", "index.js"), "");
    expect(isServerBuildCurrent(root)).toBe(false);
  });
});
