import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyPatch, enginePatches, isPatchApplied, patchEngine } from "./engine-patches.js";

const require = createRequire(import.meta.url);
const packageDirectory = dirname(dirname(require.resolve("node-llama-cpp")));

describe("engine patches (node-llama-cpp 3.21.1)", () => {
  it("are applied to the installed package (npm ci's postinstall), and applying again changes nothing", () => {
    for (const patch of enginePatches) {
      expect(isPatchApplied(readFileSync(join(packageDirectory, patch.file), "utf8"), patch)).toBe(true);
    }
    expect(patchEngine(packageDirectory)).toEqual([]);
  });

  it("each replaces its anchor, found exactly once in the pristine file", () => {
    for (const patch of enginePatches) {
      const installed = readFileSync(join(packageDirectory, patch.file), "utf8");
      const pristine = installed.replace(patch.replacement, patch.anchor);
      expect(isPatchApplied(pristine, patch)).toBe(false);
      expect(applyPatch(pristine, patch)).toBe(installed);
      expect(applyPatch(installed, patch)).toBe(installed);
    }
  });

  it("the fused decode-and-sample patch (ADR 0051) reaches the addon's C++ sources, which engine:build compiles", () => {
    const files = new Set(
      enginePatches
        .filter((patch) => patch.name.startsWith("fused-decode-sample"))
        .map((patch) => patch.file),
    );
    expect([...files].sort()).toEqual([
      "dist/evaluator/LlamaContext/LlamaContext.js",
      "llama/addon/AddonContext.cpp",
      "llama/addon/AddonContext.h",
    ]);
    const source = readFileSync(join(packageDirectory, "llama/addon/AddonContext.cpp"), "utf8");
    expect(source).toContain('InstanceMethod("decodeBatchAndSample", &AddonContext::DecodeBatchAndSample)');
    expect(source).toContain("class AddonContextDecodeBatchAndSampleWorker");
  });

  it("the run-ahead patch (ADR 0055) reaches the addon's epoch and the fused worker's loop", () => {
    const files = new Set(
      enginePatches.filter((patch) => patch.name.startsWith("run-ahead")).map((patch) => patch.file),
    );
    expect([...files].sort()).toEqual([
      "dist/evaluator/LlamaContext/LlamaContext.js",
      "llama/addon/AddonContext.cpp",
      "llama/addon/AddonContext.h",
    ]);
    const source = readFileSync(join(packageDirectory, "llama/addon/AddonContext.cpp"), "utf8");
    expect(source).toContain(
      'InstanceMethod("rawrxdSetRunAheadEpoch", &AddonContext::RawrxdSetRunAheadEpoch)',
    );
    expect(source).toContain("void RunAhead(std::chrono::steady_clock::time_point started)");
    const header = readFileSync(join(packageDirectory, "llama/addon/AddonContext.h"), "utf8");
    expect(header).toContain("std::atomic<uint32_t> rawrxdRunAheadEpoch{0};");
  });

  it("refuses a file without the anchor, naming the fix and the pinned version", () => {
    const patch = enginePatches[0]!;
    expect(() => applyPatch("export {};", patch)).toThrow(/"speculative-validated-tokens".*3\.21\.1/);
  });
});
