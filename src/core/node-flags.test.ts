/**
 * Every way the product starts passes the V8 flags of node-flags.ts: `npm start`, the bin's
 * shebang (how `npx rawrxd` and an installed `rawrxd` run), and the bin's own setting for the
 * isolate tsx starts. The runner's fork takes them from the constant itself.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nodeFlags } from "./node-flags.js";

const packageJson = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
const bin = readFileSync("bin/rawrxd.js", "utf8");

describe("node flags", () => {
  it.each(nodeFlags)("%s is passed by npm start, the bin's shebang and the bin itself", (flag) => {
    expect(packageJson.scripts["start"]).toMatch(
      new RegExp(`^node (\\S+ )*${flag} (\\S+ )*bin/rawrxd\\.js serve$`),
    );
    const shebang = bin.split("\n")[0]!;
    expect(shebang.startsWith("#!/usr/bin/env -S node ")).toBe(true);
    expect(shebang.split(" ")).toContain(flag);
    expect(bin).toContain(`setFlagsFromString("${flag}")`);
  });
});
