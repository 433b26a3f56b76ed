/**
 * Fixes to the pinned node-llama-cpp (3.21.1) that cannot wait for a release: each replaces one
 * exact piece of the package's compiled JavaScript (docs/decisions/0042-patching-node-llama-cpp.md).
 * `npm ci` applies them (the `postinstall` script, scripts/patch-engine.ts); each is idempotent
 * and refuses loudly when its anchor is gone (another version: drop or redo the fix).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fusedSamplePatches } from "./fused-sample-patches.js";
import { runAheadPatches } from "./run-ahead-patches.js";

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
  // Verifying a draft samples every drafted position, one native sampleToken call (a libuv
  // round trip) each, chained one after another: 14 calls in a row for a draft of 13 (ADR 0049).
  // The context chains each position's logit mapper on the previous position's promise; it now
  // chains every later position on the first one only (which must finish first: llama.cpp
  // reorders a batch's output rows at the first read, ADR 0034). The context still awaits every
  // sample before the next batch, and the mappers that share a sampler serialize on its lock in
  // the order they are called. In `_speculativeEvaluate`, when the sampler is stateless (greedy,
  // no grammar, no repeat or DRY penalty, no XTC) each drafted position gets a sampler of its
  // own, so their samples run at once; sampled requests keep one sampler (their random numbers
  // are drawn in position order). `sequence.rawrxdSerialDraftSamples = true` keeps one sampler
  // (bench/engine/speculative-probe.ts measures both side by side).
  {
    name: "parallel-batch-samples",
    file: "dist/evaluator/LlamaContext/LlamaContext.js",
    anchor: `                        if (mappedValue instanceof Promise) {
                            promiseChain = mappedValue;`,
    replacement: `                        if (mappedValue instanceof Promise) {
                            promiseChain ??= mappedValue; ${marker}parallel-batch-samples */`,
  },
  {
    name: "parallel-draft-samples-setup",
    file: "dist/evaluator/LlamaContext/LlamaContext.js",
    anchor: `        logitsArray[logitsStartIndex] = true;
        const sampler = new LlamaSampler(this.model);
        try {`,
    replacement: `        logitsArray[logitsStartIndex] = true;
        const sampler = new LlamaSampler(this.model);
        ${marker}parallel-draft-samples-setup */
        const rawrxdParallelSamples = this.rawrxdSerialDraftSamples !== true && (temperature ?? 0) === 0 && xtc == null &&
            grammarEvaluationState == null && (repeatPenalty == null || repeatPenalty === false) && dryRepeatPenalty == null;
        const rawrxdSamplers = [];
        try {`,
  },
  {
    name: "parallel-draft-samples",
    file: "dist/evaluator/LlamaContext/LlamaContext.js",
    anchor: `                            return withLock([sampler, "sample"], async () => {
                                if (sampler.disposed)
                                    return null;
                                sampler.applyConfig(samplerConfig);
                                if (sampleProbabilities || sampleConfidence)
                                    return this._context._ctx.sampleToken(batchLogitIndex, sampler._sampler, sampleProbabilities, sampleConfidence);
                                else
                                    return this._context._ctx.sampleToken(batchLogitIndex, sampler._sampler);
                            });
                        });
                        for (let i = logitsStartIndex; i < evalTokens.length; i++) {`,
    replacement: `                            ${marker}parallel-draft-samples */
                            const positionSampler = rawrxdParallelSamples && tokenIndex > logitsStartIndex
                                ? (rawrxdSamplers[tokenIndex - logitsStartIndex - 1] ??= new LlamaSampler(this.model))
                                : sampler;
                            return withLock([positionSampler, "sample"], async () => {
                                if (positionSampler.disposed)
                                    return null;
                                positionSampler.applyConfig(samplerConfig);
                                if (sampleProbabilities || sampleConfidence)
                                    return this._context._ctx.sampleToken(batchLogitIndex, positionSampler._sampler, sampleProbabilities, sampleConfidence);
                                else
                                    return this._context._ctx.sampleToken(batchLogitIndex, positionSampler._sampler);
                            });
                        });
                        for (let i = logitsStartIndex; i < evalTokens.length; i++) {`,
  },
  {
    name: "parallel-draft-samples-dispose",
    file: "dist/evaluator/LlamaContext/LlamaContext.js",
    anchor: `            void withLock([sampler, "sample"], sampler.asyncDispose);
            if (this._tokenPredictorOwner === tokenPredictorOwner)
                tokenPredictor.stop();`,
    replacement: `            void withLock([sampler, "sample"], sampler.asyncDispose);
            for (const positionSampler of rawrxdSamplers) ${marker}parallel-draft-samples-dispose */
                void withLock([positionSampler, "sample"], positionSampler.asyncDispose);
            if (this._tokenPredictorOwner === tokenPredictorOwner)
                tokenPredictor.stop();`,
  },
  // Decode and sample in one native call where the addon has it (an engine:build; ADR 0051).
  ...fusedSamplePatches,
  // The fused call goes on decoding a lone sequence on its worker (ADR 0055).
  ...runAheadPatches,
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
