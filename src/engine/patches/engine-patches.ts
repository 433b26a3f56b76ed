/**
 * Fixes to the pinned node-llama-cpp (3.21.1) that cannot wait for a release: each replaces one
 * exact piece of the package's compiled JavaScript (docs/decisions/0042-patching-node-llama-cpp.md).
 * `npm ci` applies them (the `postinstall` script, scripts/patch-engine.ts); each is idempotent
 * and refuses loudly when its anchor is gone (another version: drop or redo the fix).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface EnginePatch {
  name: string;
  /** Path inside the node-llama-cpp package. */
  file: string;
  /** The exact text the fix replaces; it occurs once. */
  anchor: string;
  replacement: string;
}

export const patchedVersion = "3.21.1";
const marker = "/* rawrxd patch: ";

export const enginePatches: readonly EnginePatch[] = [
  {
    // `_speculativeEvaluate` compares each drafted token after the first with the previous
    // validated token's output, read from `validatedTokens`, which nothing ever filled: every
    // drafted token after the first was refuted, so a step could gain at most one token.
    name: "speculative-validated-tokens",
    file: "dist/evaluator/LlamaContext/LlamaContext.js",
    anchor: `this._loadedTokenPredictions.push([evalTokens[i], [resultToken, probabilities, confidence]]);
                                    this._validatedTokenPredictions++;`,
    replacement: `this._loadedTokenPredictions.push([evalTokens[i], [resultToken, probabilities, confidence]]);
                                    validatedTokens.push([evalTokens[i], resultToken]); ${marker}speculative-validated-tokens */
                                    this._validatedTokenPredictions++;`,
  },
];

/** The file's text with the fix applied; unchanged when it already is. */
export function applyPatch(text: string, patch: EnginePatch): string {
  if (text.includes(`${marker}${patch.name} */`)) return text;
  const first = text.indexOf(patch.anchor);
  if (first < 0 || text.indexOf(patch.anchor, first + 1) >= 0)
    throw new Error(
      `node-llama-cpp's ${patch.file} does not contain the code the "${patch.name}" fix replaces exactly once: is node-llama-cpp still ${patchedVersion}? Pin it again or update src/engine/patches/engine-patches.ts.`,
    );
  return text.slice(0, first) + patch.replacement + text.slice(first + patch.anchor.length);
}

export function isPatchApplied(text: string, patch: EnginePatch): boolean {
  return text.includes(`${marker}${patch.name} */`);
}

/** Applies every fix to the installed package; returns the names applied now. */
export function patchEngine(packageDirectory: string): string[] {
  const version = (
    JSON.parse(readFileSync(join(packageDirectory, "package.json"), "utf8")) as { version: string }
  ).version;
  if (version !== patchedVersion)
    throw new Error(
      `node-llama-cpp ${version} is installed, but the engine fixes are for ${patchedVersion}: pin ${patchedVersion} (package.json) or update src/engine/patches/engine-patches.ts.`,
    );
  const applied: string[] = [];
  for (const patch of enginePatches) {
    const path = join(packageDirectory, patch.file);
    const text = readFileSync(path, "utf8");
    if (isPatchApplied(text, patch)) continue;
    writeFileSync(path, applyPatch(text, patch));
    applied.push(patch.name);
  }
  return applied;
}
