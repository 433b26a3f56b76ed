/**
 * Decode and sample in one native call (issue #17 item 1, docs/decisions/0051-fused-decode-sample.md).
 *
 * node-llama-cpp 3.21.1 decodes a batch on one libuv worker (`decodeBatch`), returns to the
 * main thread, then samples each sequence's token on another worker each (`sampleToken`): at
 * least two thread hops and two promise settlements a token. The addon gets
 * `decodeBatchAndSample(batchLogitIndexes, samplers)`, which decodes the batch and then samples
 * the given (batch logit index, sampler) pairs one after another on the same worker, returning
 * the tokens (-1 where a sampler produced none). Sampling one after another also makes the
 * first-read race of ADR 0034 impossible on that path. Only `npm run engine:build` compiles it
 * (the addon sources are patched at install); the prebuilt addon lacks the method and the
 * context keeps the old path.
 *
 * On the JavaScript side, `LlamaContextSequence._evaluate`'s logit mapper exposes
 * `rawrxdFusedSample()`: it applies the sampler config and returns the native sampler, or null
 * when the request is not plain sampling (probabilities or confidence asked, or no sampling).
 * The context's `decodeTokenBatchItems` uses the fused call when the addon has it, every output
 * of the batch belongs to such a mapper (one output each) and `context.rawrxdFusedSample` is not
 * false; otherwise the old decode-then-sample path runs.
 */
import type { EnginePatch } from "./engine-patches.js";

const marker = "/* rawrxd patch: ";
const contextJs = "dist/evaluator/LlamaContext/LlamaContext.js";
const contextCpp = "llama/addon/AddonContext.cpp";

const workerCpp = `${marker}fused-decode-sample-worker */
#include <chrono>
// Decodes the batch, then samples each (batchLogitIndex, sampler) pair in order on this worker.
// With a run-ahead (ADR 0055) it then decodes the sampled tokens, one per sequence, as one batch
// and samples the next, on this worker, until each sequence's step limit or end-of-generation
// token, the time budget, or a changed run-ahead epoch (rawrxdSetRunAheadEpoch) stops it.
class AddonContextDecodeBatchAndSampleWorker : public Napi::AsyncWorker {
    public:
        AddonContext* ctx;
        std::vector<int32_t> batchLogitIndexes;
        std::vector<AddonSampler*> samplers;
        std::vector<int64_t> results;
        bool runAhead = false;
        std::vector<int32_t> runAheadSequenceIds;
        std::vector<int32_t> runAheadPositions;
        std::vector<int32_t> runAheadMaxSteps;
        int64_t runAheadBudgetUs = 0;
        uint32_t runAheadEpoch = 0;
        std::vector<int32_t> runAheadDecoded;
        std::vector<std::vector<llama_token>> runAheadSampled;

        AddonContextDecodeBatchAndSampleWorker(const Napi::CallbackInfo& info, AddonContext* ctx)
            : Napi::AsyncWorker(info.Env(), "AddonContextDecodeBatchAndSampleWorker"),
              ctx(ctx),
              deferred(Napi::Promise::Deferred::New(info.Env())) {
            ctx->Ref();

            Napi::Uint32Array indexes = info[0].As<Napi::Uint32Array>();
            Napi::Array samplerObjects = info[1].As<Napi::Array>();
            size_t count = std::min(static_cast<size_t>(indexes.ElementLength()), static_cast<size_t>(samplerObjects.Length()));
            for (size_t i = 0; i < count; i++) {
                AddonSampler* sampler = Napi::ObjectWrap<AddonSampler>::Unwrap(samplerObjects.Get(i).As<Napi::Object>());
                sampler->Ref();
                samplers.push_back(sampler);
                batchLogitIndexes.push_back(static_cast<int32_t>(indexes[i]));
            }
            results.assign(count, -1);
            if (info.Length() > 2 && info[2].IsObject()) {
                Napi::Object params = info[2].As<Napi::Object>();
                Napi::Array sequenceIds = params.Get("sequenceIds").As<Napi::Array>();
                Napi::Array positions = params.Get("positions").As<Napi::Array>();
                Napi::Array maxSteps = params.Get("maxSteps").As<Napi::Array>();
                runAhead = sequenceIds.Length() == count && positions.Length() == count && maxSteps.Length() == count;
                for (uint32_t i = 0; runAhead && i < count; i++) {
                    runAheadSequenceIds.push_back(sequenceIds.Get(i).As<Napi::Number>().Int32Value());
                    runAheadPositions.push_back(positions.Get(i).As<Napi::Number>().Int32Value());
                    runAheadMaxSteps.push_back(maxSteps.Get(i).As<Napi::Number>().Int32Value());
                }
                runAheadBudgetUs = params.Get("budgetUs").As<Napi::Number>().Int64Value();
                runAheadEpoch = params.Get("epoch").As<Napi::Number>().Uint32Value();
                runAheadDecoded.assign(count, 0);
                runAheadSampled.assign(count, {});
            }
        }
        ~AddonContextDecodeBatchAndSampleWorker() {
            ctx->Unref();
            for (AddonSampler* sampler : samplers) {
                sampler->Unref();
            }
        }

        Napi::Promise GetPromise() {
            return deferred.Promise();
        }

    protected:
        Napi::Promise::Deferred deferred;

        void RunAhead(std::chrono::steady_clock::time_point started) {
            const llama_vocab* vocab = llama_model_get_vocab(ctx->model->model);
            const size_t count = samplers.size();
            std::vector<llama_token> next(count);
            std::vector<bool> active(count);
            for (size_t i = 0; i < count; i++) {
                next[i] = static_cast<llama_token>(results[i]);
                active[i] = results[i] >= 0 && runAheadMaxSteps[i] > 0 && !llama_vocab_is_eog(vocab, next[i]);
            }
            std::vector<size_t> inBatch;
            while (ctx->rawrxdRunAheadEpoch.load() == runAheadEpoch) {
                auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
                if (elapsed.count() >= runAheadBudgetUs) break;

                common_batch_clear(ctx->batch);
                inBatch.clear();
                for (size_t i = 0; i < count; i++) {
                    if (!active[i]) continue;
                    common_batch_add(ctx->batch, next[i], runAheadPositions[i] + runAheadDecoded[i], { runAheadSequenceIds[i] }, true);
                    inBatch.push_back(i);
                }
                if (inBatch.empty() || llama_decode(ctx->ctx, ctx->batch) != 0) break;
                llama_synchronize(ctx->ctx);

                for (size_t k = 0; k < inBatch.size(); k++) {
                    const size_t i = inBatch[k];
                    runAheadDecoded[i]++;
                    AddonSampler* sampler = samplers[i];
                    sampler->rebuildChainIfNeeded();
                    llama_token_data_array cur_p;
                    sampler->sample(ctx->ctx, static_cast<int32_t>(k), cur_p, false);
                    if (cur_p.size == 0 || !(cur_p.selected >= 0 && cur_p.selected < (int32_t)cur_p.size)) {
                        active[i] = false;
                        continue;
                    }
                    next[i] = cur_p.data[cur_p.selected].id;
                    sampler->acceptToken(next[i]);
                    runAheadSampled[i].push_back(next[i]);
                    if (llama_vocab_is_eog(vocab, next[i]) || runAheadDecoded[i] >= runAheadMaxSteps[i]) active[i] = false;
                }
            }
        }

        void Execute() {
            try {
                const auto started = std::chrono::steady_clock::now();
                int r = llama_decode(ctx->ctx, ctx->batch);

                if (r != 0) {
                    if (r == 1) {
                        SetError("could not find a KV slot for the batch (try reducing the size of the batch or increase the context)");
                    } else {
                        SetError("Eval has failed");
                    }

                    return;
                }

                llama_synchronize(ctx->ctx);

                if (!samplers.empty() && llama_get_logits(ctx->ctx) == nullptr) {
                    SetError("This model does not support token generation");
                    return;
                }

                for (size_t i = 0; i < samplers.size(); i++) {
                    AddonSampler* sampler = samplers[i];
                    sampler->rebuildChainIfNeeded();

                    llama_token_data_array cur_p;
                    sampler->sample(ctx->ctx, batchLogitIndexes[i], cur_p, false);

                    if (cur_p.size == 0 || !(cur_p.selected >= 0 && cur_p.selected < (int32_t)cur_p.size)) {
                        continue;
                    }

                    auto new_token_id = cur_p.data[cur_p.selected].id;
                    sampler->acceptToken(new_token_id);
                    results[i] = static_cast<uint32_t>(new_token_id);
                }
                if (runAhead) {
                    RunAhead(started);
                }
            } catch (const std::exception& e) {
                SetError(e.what());
            } catch(...) {
                SetError("Unknown error when calling \\"DecodeBatchAndSample\\"");
            }
        }
        void OnOK() {
            Napi::Array tokens = Napi::Array::New(Env(), results.size());
            for (size_t i = 0; i < results.size(); i++) {
                tokens.Set(static_cast<uint32_t>(i), Napi::Number::New(Env(), static_cast<double>(results[i])));
            }
            if (runAhead) {
                Napi::Array decoded = Napi::Array::New(Env(), results.size());
                Napi::Array sampled = Napi::Array::New(Env(), results.size());
                for (size_t i = 0; i < results.size(); i++) {
                    Napi::Array sequenceSampled = Napi::Array::New(Env(), runAheadSampled[i].size());
                    for (size_t j = 0; j < runAheadSampled[i].size(); j++) {
                        sequenceSampled.Set(static_cast<uint32_t>(j), Napi::Number::New(Env(), static_cast<double>(runAheadSampled[i][j])));
                    }
                    decoded.Set(static_cast<uint32_t>(i), Napi::Number::New(Env(), runAheadDecoded[i]));
                    sampled.Set(static_cast<uint32_t>(i), sequenceSampled);
                }
                tokens.Set("runAheadDecoded", decoded);
                tokens.Set("runAheadSampled", sampled);
            }
            deferred.Resolve(tokens);
        }
        void OnError(const Napi::Error& err) {
            deferred.Reject(err.Value());
        }
};

AddonContext::AddonContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AddonContext>(info) {`;

export const fusedSamplePatches: readonly EnginePatch[] = [
  {
    name: "fused-decode-sample-declaration",
    file: "llama/addon/AddonContext.h",
    anchor: `        Napi::Value SampleToken(const Napi::CallbackInfo& info);
`,
    replacement: `        Napi::Value SampleToken(const Napi::CallbackInfo& info);
        Napi::Value DecodeBatchAndSample(const Napi::CallbackInfo& info); ${marker}fused-decode-sample-declaration */
`,
  },
  {
    name: "fused-decode-sample-worker",
    file: contextCpp,
    anchor: `AddonContext::AddonContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AddonContext>(info) {`,
    replacement: workerCpp,
  },
  {
    name: "fused-decode-sample-method",
    file: contextCpp,
    anchor: `Napi::Value AddonContext::SampleToken(const Napi::CallbackInfo& info) {
    AddonContextSampleTokenWorker* worker = new AddonContextSampleTokenWorker(info, this);
    worker->Queue();
    return worker->GetPromise();
}`,
    replacement: `Napi::Value AddonContext::SampleToken(const Napi::CallbackInfo& info) {
    AddonContextSampleTokenWorker* worker = new AddonContextSampleTokenWorker(info, this);
    worker->Queue();
    return worker->GetPromise();
}
${marker}fused-decode-sample-method */
Napi::Value AddonContext::DecodeBatchAndSample(const Napi::CallbackInfo& info) {
    AddonContextDecodeBatchAndSampleWorker* worker = new AddonContextDecodeBatchAndSampleWorker(info, this);
    worker->Queue();
    return worker->GetPromise();
}`,
  },
  {
    name: "fused-decode-sample-register",
    file: contextCpp,
    anchor: `                InstanceMethod("sampleToken", &AddonContext::SampleToken),
`,
    replacement: `                InstanceMethod("sampleToken", &AddonContext::SampleToken),
                InstanceMethod("decodeBatchAndSample", &AddonContext::DecodeBatchAndSample), ${marker}fused-decode-sample-register */
`,
  },
  {
    // Which outputs of the batch the fused call samples, decided before the decode.
    name: "fused-decode-sample-select",
    file: contextJs,
    anchor: `                if (currentBatchSize !== 0) {
                    const allocationResult = this._threadSplitterConsumer?.getAllocationToConsume();`,
    replacement: `                ${marker}fused-decode-sample-select */
                let rawrxdFused = null;
                if (currentBatchSize !== 0 && this.rawrxdFusedSample !== false && typeof this._ctx.decodeBatchAndSample === "function") {
                    rawrxdFused = { actions: [], indexes: [], samplers: [], tokens: null };
                    for (const action of afterDecodeActions) {
                        if (action.batchLogitIndexes.length === 0)
                            continue;
                        const fusedSample = action.queuedDecode.logitDataMapper?.rawrxdFusedSample;
                        if (action.batchLogitIndexes.length !== 1 || typeof fusedSample !== "function") {
                            rawrxdFused = null;
                            break;
                        }
                        rawrxdFused.actions.push(action);
                        rawrxdFused.indexes.push(action.batchLogitIndexes[0]);
                    }
                    for (const action of rawrxdFused?.actions ?? []) {
                        const nativeSampler = action.queuedDecode.logitDataMapper.rawrxdFusedSample();
                        if (nativeSampler == null) {
                            rawrxdFused = null;
                            break;
                        }
                        rawrxdFused.samplers.push(nativeSampler);
                    }
                    if (rawrxdFused != null && rawrxdFused.actions.length === 0)
                        rawrxdFused = null;
                    // When every sequence of the batch asks for it, they decode ahead on the worker (ADR 0055).
                    const runAheadRequests = (rawrxdFused?.actions ?? []).map((action) => action.returnResults != null
                        ? action.queuedDecode.logitDataMapper.rawrxdFusedSample.rawrxdRunAhead
                        : undefined);
                    if (rawrxdFused != null && currentBatchSize === rawrxdFused.actions.length && runAheadRequests.every((request) => request != null)) {
                        const positions = rawrxdFused.actions.map((action) => action.firstTokenIndex + action.batchLogitTokenIndexes[0] + 1);
                        const maxSteps = runAheadRequests.map((request, index) => Math.max(0, Math.min(request.maxSteps, this.contextSize - 2 - positions[index])));
                        if (maxSteps.some((steps) => steps > 0))
                            rawrxdFused.runAhead = { requests: runAheadRequests, params: {
                                sequenceIds: rawrxdFused.actions.map((action) => action.queuedDecode.sequenceId),
                                positions,
                                maxSteps,
                                budgetUs: Math.min(...runAheadRequests.map((request) => request.budgetUs)),
                                // A request asked before the latest stop carries an older epoch: the worker then stops at once.
                                epoch: Math.min(...runAheadRequests.map((request) => request.epoch))
                            } };
                    }
                }
                if (currentBatchSize !== 0) {
                    const allocationResult = this._threadSplitterConsumer?.getAllocationToConsume();`,
  },
  {
    name: "fused-decode-sample-call",
    file: contextJs,
    anchor: `                        if (threadsToUse != null)
                            this._ctx.setThreads(threadsToUse);
                        await this._ctx.decodeBatch();`,
    replacement: `                        if (threadsToUse != null)
                            this._ctx.setThreads(threadsToUse);
                        if (rawrxdFused != null) ${marker}fused-decode-sample-call */
                            rawrxdFused.tokens = await this._ctx.decodeBatchAndSample(Uint32Array.from(rawrxdFused.indexes), rawrxdFused.samplers, rawrxdFused.runAhead?.params);
                        else
                            await this._ctx.decodeBatch();`,
  },
  {
    name: "fused-decode-sample-results",
    file: contextJs,
    anchor: `                    if (action.batchLogitIndexes.length === 0) {
                        finishAfterDecodeAction(action);
                        return undefined;
                    }`,
    replacement: `                    if (action.batchLogitIndexes.length === 0) {
                        finishAfterDecodeAction(action);
                        return undefined;
                    }
                    if (rawrxdFused?.tokens != null) { ${marker}fused-decode-sample-results */
                        const fusedIndex = rawrxdFused.actions.indexOf(action);
                        const fusedToken = rawrxdFused.tokens[fusedIndex];
                        if (rawrxdFused.runAhead != null && rawrxdFused.tokens.runAheadSampled != null)
                            rawrxdFused.runAhead.requests[fusedIndex].result = { decoded: rawrxdFused.tokens.runAheadDecoded[fusedIndex], sampled: rawrxdFused.tokens.runAheadSampled[fusedIndex] };
                        finishAfterDecodeAction(action, [[action.batchLogitTokenIndexes[0] + action.firstTokenIndex, fusedToken]]);
                        return undefined;
                    }`,
  },
  {
    // The plain-sampling mapper of \`_evaluate\` says how the fused call samples for it.
    name: "fused-decode-sample-mapper",
    file: contextJs,
    anchor: `                            if (sampleProbabilities || sampleConfidence)
                                return this._context._ctx.sampleToken(batchLogitIndex, sampler._sampler, sampleProbabilities, sampleConfidence);
                            else
                                return this._context._ctx.sampleToken(batchLogitIndex, sampler._sampler);
                        });
                    }, this._takeIntervalCheckpointIfNeededAfterBatch);
                    const lastDecodeResult = decodeResult[evalTokens.length - 1];`,
    replacement: `                            if (sampleProbabilities || sampleConfidence)
                                return this._context._ctx.sampleToken(batchLogitIndex, sampler._sampler, sampleProbabilities, sampleConfidence);
                            else
                                return this._context._ctx.sampleToken(batchLogitIndex, sampler._sampler);
                        });
                    }, this._takeIntervalCheckpointIfNeededAfterBatch, ${marker}fused-decode-sample-mapper */
                        _noSampling || sampleProbabilities || sampleConfidence ? undefined : Object.assign(() => {
                            if (sampler.disposed)
                                return null;
                            sampler.applyConfig(this._resolveSamplerConfig({
                                temperature,
                                minP,
                                topK,
                                topP,
                                seed,
                                xtc,
                                grammarEvaluationState,
                                repeatPenalty,
                                dryRepeatPenalty,
                                tokenBias
                            }));
                            return sampler._sampler;
                        }, { rawrxdRunAhead: (rawrxdRunAheadRequest = rawrxdRunAhead?.() ?? null) }));
                    const lastDecodeResult = decodeResult[evalTokens.length - 1];`,
  },
  {
    // The sequence's \`_decodeTokens\` hands the mapper's fused sampler on to the context's.
    name: "fused-decode-sample-forward",
    file: contextJs,
    anchor: `    async _decodeTokens(tokens, logits, evaluationPriority, tokenMeter, contextShiftOptions, logitDataMapper, afterBatchAction) {
        this._ensureNotDisposed();
        const tokensLeftToDecode = tokens.slice();
        const tokenLogitsLeftToDecode = logits.slice();
        let currentTokenIndex = 0;
        const res = [];
        const normalizedLogitDataMapper = (batchLogitIndex, contextStateTokenIndex) => {
            return logitDataMapper(batchLogitIndex, currentTokenIndex + (contextStateTokenIndex - this._nextTokenIndex));
        };`,
    replacement: `    async _decodeTokens(tokens, logits, evaluationPriority, tokenMeter, contextShiftOptions, logitDataMapper, afterBatchAction, rawrxdFusedSample) {
        this._ensureNotDisposed();
        const tokensLeftToDecode = tokens.slice();
        const tokenLogitsLeftToDecode = logits.slice();
        let currentTokenIndex = 0;
        const res = [];
        const normalizedLogitDataMapper = (batchLogitIndex, contextStateTokenIndex) => {
            return logitDataMapper(batchLogitIndex, currentTokenIndex + (contextStateTokenIndex - this._nextTokenIndex));
        };
        if (rawrxdFusedSample != null) ${marker}fused-decode-sample-forward */
            normalizedLogitDataMapper.rawrxdFusedSample = rawrxdFusedSample;`,
  },
];
