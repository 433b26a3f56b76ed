/**
 * Every way the product starts passes the V8 flags of node-flags.ts: `npm start`, the bin's
 * shebang (how `npx rawrxd` and an installed `rawrxd` run), and the bin's own setting for the
 * isolate tsx starts. The runner's fork takes them from the constant itself.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nodeFlags, serverV8Flags } from "./node-flags.js";

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

/**
 * V8's optimization-status bit for "has baseline (Sparkplug) code" (runtime-test.cc,
 * OptimizationStatus::kBaseline), read through --allow-natives-syntax in a child process.
 */
const baselineBit = 1 << 15;
const statusScript = `
import { applyServerV8Flags } from "./src/core/node-flags.ts";
const statusOf = new Function("f", "return %GetOptimizationStatus(f)");
const before = new Function("x", "return x + 1");
before(1);
applyServerV8Flags();
const after = new Function("x", "return x + 2");
after(1);
console.log(JSON.stringify([statusOf(before), statusOf(after)]));
`;

describe("the server's run-time V8 flags (ADR 0061)", () => {
  it("are only --always-sparkplug, which is not also a start-up flag", () => {
    expect(serverV8Flags).toEqual(["--always-sparkplug"]);
    expect(nodeFlags).not.toContain("--always-sparkplug");
  });

  it("compile a function first called after them to baseline code on that call, and not one before", () => {
    const output = execFileSync(
      process.execPath,
      ["--allow-natives-syntax", "--import", "tsx", "--input-type=module", "-e", statusScript],
      { encoding: "utf8", timeout: 30_000 },
    );
    const [before, after] = JSON.parse(output.trim().split("\n").at(-1)!) as [number, number];
    expect(before & baselineBit).toBe(0);
    expect(after & baselineBit).toBe(baselineBit);
  });
});
