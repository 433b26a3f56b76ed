/**
 * The architectures the header reader accepts are exactly those the bundled llama.cpp can load:
 * LLM_ARCH_NAMES in src/llama-arch.cpp of the llama.cpp source that node-llama-cpp ships as a git
 * bundle. When node-llama-cpp is upgraded this fails until src/gguf/llama-architectures.ts follows.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { llamaCppArchitectures } from "../../src/gguf/index.js";

const bundlePath = resolve(process.cwd(), "node_modules/node-llama-cpp/llama/gitRelease.bundle");

function hasGit(): boolean {
  try {
    execFileSync("git", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function bundledArchitectureNames(): string[] {
  const repository = mkdtempSync(join(tmpdir(), "rawrxd-llama-src-"));
  try {
    const git = (...args: string[]): string =>
      execFileSync("git", ["-C", repository, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    git("init", "-q");
    git("fetch", "-q", bundlePath, "HEAD");
    const source = git("show", "FETCH_HEAD:src/llama-arch.cpp");
    const table = /LLM_ARCH_NAMES\s*=\s*\{([\s\S]*?)\n\};/.exec(source)?.[1] ?? "";
    return [...table.matchAll(/\{\s*LLM_ARCH_\w+\s*,\s*"([^"]+)"\s*\}/g)].map((match) => match[1]!);
  } finally {
    rmSync(repository, { recursive: true, force: true });
  }
}

describe("the architectures llama.cpp knows", () => {
  it.skipIf(!existsSync(bundlePath) || !hasGit())(
    "match LLM_ARCH_NAMES of the bundled llama.cpp, less clip (quantize only) and (unknown)",
    () => {
      const names = bundledArchitectureNames();
      expect(names.length).toBeGreaterThan(100);
      const loadable = names.filter((name) => name !== "clip" && name !== "(unknown)").sort();
      expect([...llamaCppArchitectures].sort()).toEqual(loadable);
    },
  );
});
