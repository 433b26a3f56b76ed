/**
 * Run-ahead decoding on the local build (issue #17 item 1, docs/decisions/0055-run-ahead-decoding.md).
 *
 * With the fused call of ADR 0051 one token still costs two thread wake-ups: the worker hands
 * the sampled token to the main thread, which queues the next decode on the worker. When one
 * sequence decodes alone, `decodeBatchAndSample` can go on by itself: decode the token it just
 * sampled, sample the next, and so on, until a step limit, a time budget, an end-of-generation
 * token, or a new run-ahead epoch (`rawrxdSetRunAheadEpoch`, set by the runner when another
 * request arrives or this one is cancelled). The worker part is in fused-sample-patches.ts.
 *
 * Here: the addon's epoch (an atomic the worker reads between steps), and `_evaluate`'s side.
 * An evaluation asks for it with the option `rawrxdRunAhead` (a function called before each
 * decode, returning `{ maxSteps, budgetUs, epoch }` or null). The tokens the worker decoded
 * join the sequence's state at once (`_nextTokenIndex`, `_contextTokens`); the sampled ones are
 * yielded one by one, and a token decoded already needs no evaluation when the caller goes on.
 * A replacement token, or a caller that stops, erases the decoded tokens it did not go on past,
 * so the sequence's state is what it would have been without the run-ahead.
 */
import type { EnginePatch } from "./engine-patches.js";

const marker = "/* rawrxd patch: ";
const contextJs = "dist/evaluator/LlamaContext/LlamaContext.js";
const contextHeader = "llama/addon/AddonContext.h";
const contextCpp = "llama/addon/AddonContext.cpp";

export const runAheadPatches: readonly EnginePatch[] = [
  {
    name: "run-ahead-include",
    file: contextHeader,
    anchor: `#include <shared_mutex>
`,
    replacement: `#include <shared_mutex>
#include <atomic> ${marker}run-ahead-include */
`,
  },
  {
    name: "run-ahead-epoch",
    file: contextHeader,
    anchor: `        bool memoryDisposed = false;
`,
    replacement: `        bool memoryDisposed = false;
        std::atomic<uint32_t> rawrxdRunAheadEpoch{0}; ${marker}run-ahead-epoch */
`,
  },
  {
    name: "run-ahead-epoch-declaration",
    file: contextHeader,
    anchor: `        Napi::Value GetEmbedding(const Napi::CallbackInfo& info);
`,
    replacement: `        Napi::Value RawrxdSetRunAheadEpoch(const Napi::CallbackInfo& info); ${marker}run-ahead-epoch-declaration */
        Napi::Value GetEmbedding(const Napi::CallbackInfo& info);
`,
  },
  {
    name: "run-ahead-epoch-method",
    file: contextCpp,
    anchor: `Napi::Value AddonContext::GetEmbedding(const Napi::CallbackInfo& info) {`,
    replacement: `${marker}run-ahead-epoch-method */
Napi::Value AddonContext::RawrxdSetRunAheadEpoch(const Napi::CallbackInfo& info) {
    rawrxdRunAheadEpoch.store(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
}

Napi::Value AddonContext::GetEmbedding(const Napi::CallbackInfo& info) {`,
  },
  {
    name: "run-ahead-epoch-register",
    file: contextCpp,
    anchor: `                InstanceMethod("getEmbedding", &AddonContext::GetEmbedding),
`,
    replacement: `                InstanceMethod("rawrxdSetRunAheadEpoch", &AddonContext::RawrxdSetRunAheadEpoch), ${marker}run-ahead-epoch-register */
                InstanceMethod("getEmbedding", &AddonContext::GetEmbedding),
`,
  },
  {
    name: "run-ahead-option",
    file: contextJs,
    anchor: `yieldEogToken = false, _noSampling = false } = options;`,
    replacement: `yieldEogToken = false, _noSampling = false, rawrxdRunAhead } = options; ${marker}run-ahead-option */`,
  },
  {
    name: "run-ahead-option-forward",
    file: contextJs,
    anchor: `            yieldEogToken,
            _noSampling
        });`,
    replacement: `            yieldEogToken,
            _noSampling,
            rawrxdRunAhead ${marker}run-ahead-option-forward */
        });`,
  },
  {
    name: "run-ahead-parameter",
    file: contextJs,
    anchor: `yieldEogToken = false, _noSampling = false, _skipLock = false }) {`,
    replacement: `yieldEogToken = false, _noSampling = false, _skipLock = false, rawrxdRunAhead }) { ${marker}run-ahead-parameter */`,
  },
  {
    name: "run-ahead-state",
    file: contextJs,
    anchor: `        const sampleConfidence = metadata.confidence === true;
        const sampler = new LlamaSampler(this.model);
        try {
            while (true) {`,
    replacement: `        const sampleConfidence = metadata.confidence === true;
        const sampler = new LlamaSampler(this.model);
        ${marker}run-ahead-state */
        let rawrxdRunAheadRequest = null; // what the fused call was asked to run ahead for this decode
        let rawrxdAhead = null; // { sampled, unconsumed }: tokens sampled ahead; decoded ones not gone past
        try {
            while (true) {`,
  },
  {
    // The worker's decoded tokens join the sequence's state while the evaluator lock is held.
    name: "run-ahead-decoded",
    file: contextJs,
    anchor: `                    if (nextToken == null)
                        return;
                    // the model finished generating text
                    if (!yieldEogToken && this._context.model.isEogToken(nextToken))
                        break;
                }
                finally {
                    evaluatorLock?.dispose();`,
    replacement: `                    if (nextToken == null)
                        return;
                    rawrxdAhead = null; ${marker}run-ahead-decoded */
                    const runAheadResult = rawrxdRunAheadRequest?.result;
                    rawrxdRunAheadRequest = null;
                    if (runAheadResult != null) {
                        const decodedTokens = [nextToken, ...runAheadResult.sampled].slice(0, runAheadResult.decoded);
                        this._nextTokenIndex += decodedTokens.length;
                        this._contextTokens = this._contextTokens.concat(decodedTokens);
                        TokenMeter.useTokens(this._tokenMeter, decodedTokens.length, "output");
                        rawrxdAhead = { sampled: runAheadResult.sampled, unconsumed: decodedTokens.length };
                    }
                    // the model finished generating text
                    if (!yieldEogToken && this._context.model.isEogToken(nextToken))
                        break;
                }
                finally {
                    evaluatorLock?.dispose();`,
  },
  {
    name: "run-ahead-yield",
    file: contextJs,
    anchor: `                yieldRes.token = nextToken;
                const replacementToken = yield yieldRes;`,
    replacement: `                yieldRes.token = nextToken;
                let replacementToken = yield yieldRes;
                if (rawrxdAhead != null) { ${marker}run-ahead-yield */
                    for (const aheadToken of rawrxdAhead.sampled) {
                        if (replacementToken != null)
                            break;
                        rawrxdAhead.unconsumed--; // went on past a token decoded already
                        nextToken = aheadToken;
                        if (!yieldEogToken && this._context.model.isEogToken(nextToken))
                            return;
                        replacementToken = yield { token: nextToken };
                    }
                    if (replacementToken == null && rawrxdAhead.unconsumed > 0)
                        throw new Error("Failed to sample next token");
                    if (rawrxdAhead.unconsumed > 0)
                        await this._eraseContextTokenRanges([{ start: this._nextTokenIndex - rawrxdAhead.unconsumed, end: this._nextTokenIndex }]);
                    rawrxdAhead = null;
                }`,
  },
  {
    name: "run-ahead-erase",
    file: contextJs,
    anchor: `                    evalTokens = [nextToken];
            }
        }
        finally {
            void withLock([sampler, "sample"], sampler.asyncDispose);
        }
    }
    /** @internal */
    async *_speculativeEvaluate(`,
    replacement: `                    evalTokens = [nextToken];
            }
        }
        finally {
            if (rawrxdAhead != null && rawrxdAhead.unconsumed > 0 && !this._disposed) ${marker}run-ahead-erase */
                await this._eraseContextTokenRanges([{ start: this._nextTokenIndex - rawrxdAhead.unconsumed, end: this._nextTokenIndex }]).catch(() => undefined);
            void withLock([sampler, "sample"], sampler.asyncDispose);
        }
    }
    /** @internal */
    async *_speculativeEvaluate(`,
  },
];
