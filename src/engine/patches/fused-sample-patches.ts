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
// Decodes the batch, then samples each (batchLogitIndex, sampler) pair in order on this worker.
class AddonContextDecodeBatchAndSampleWorker : public Napi::AsyncWorker {
    public:
        AddonContext* ctx;
        std::vector<int32_t> batchLogitIndexes;
        std::vector<AddonSampler*> samplers;
        std::vector<int64_t> results;

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

        void Execute() {
            try {
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
                            rawrxdFused.tokens = await this._ctx.decodeBatchAndSample(Uint32Array.from(rawrxdFused.indexes), rawrxdFused.samplers);
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
                        const fusedToken = rawrxdFused.tokens[rawrxdFused.actions.indexOf(action)];
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
                        _noSampling || sampleProbabilities || sampleConfidence ? undefined : () => {
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
                        });
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
