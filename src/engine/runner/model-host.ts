/**
 * Inside a runner process: the loaded model, its one context with `parallel` sequences, and
 * an exclusive pool of those sequences (two generations on one sequence corrupt each other).
 * A request gets the free sequence whose cached tokens share the longest prefix with its prompt.
 */
import {
  InsufficientMemoryError,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { systemTime } from "../../core/index.js";
import { effectiveContextTokens, readResidentMemorySync, type ModelPlanReport } from "../../gpu/index.js";
import type { SpeculativeMode } from "../contract.js";
import { defaultStreamCoalesceMs, type LoadedMessage, type RunnerLoadOptions } from "../protocol.js";
import { DecodeGather, type GatherOrder } from "./decode-gather.js";
import { chooseSequence } from "./sequence-choice.js";
import { loadDraft, type DraftModel } from "./draft-model.js";
import { installSampleGate } from "./sample-gate.js";
import { speculativeModeFor } from "./speculation.js";
import { LlamaLogFilter } from "./llama-log.js";
import { RunAhead } from "./run-ahead.js";
import { chooseFlashAttention } from "./flash-attention.js";
import { openKvState, settleSaves, type KvState } from "./kv-state.js";
import { estimateWithEngine, openEngine, planForEngine, tuningOf, type RunnerLog } from "./load-plan.js";
import { createHostThreadTuner } from "./host-thread-tuner.js";
import { loadProbeFor } from "./load-check.js";
import {
  chooseThreads,
  maxThreadsFor,
  type ChooseThreadsOptions,
  type ThreadDecision,
} from "./thread-calibration.js";
import type { ThreadTuner } from "./thread-tuner.js";

export type { RunnerLog } from "./load-plan.js";

/**
 * `npm run bench:batching -- --server` runs the old order beside the new one (ADR 0044): it sets
 * RAWRXD_BENCH_GATHER_ORDER=arrival for one server's runners. A benchmark hook, not a setting.
 */
function benchGatherOrder(): GatherOrder {
  return process.env["RAWRXD_BENCH_GATHER_ORDER"] === "arrival" ? "arrival" : "sequence";
}

/**
 * RAWRXD_BENCH_FUSED_SAMPLE=off keeps decode-then-sample on a build whose addon has the fused
 * call (ADR 0051), so a benchmark can run both side by side. A benchmark hook, not a setting.
 */
function benchFusedSample(context: LlamaContext): void {
  if (process.env["RAWRXD_BENCH_FUSED_SAMPLE"] === "off")
    (context as unknown as { rawrxdFusedSample?: boolean }).rawrxdFusedSample = false;
}

/** The sequence's id in its context (internal to node-llama-cpp 3.21.1; 0 when absent). */
function sequenceIdOf(sequence: LlamaContextSequence): number {
  const id = (sequence as unknown as { _sequenceId?: unknown })._sequenceId;
  return typeof id === "number" ? id : 0;
}

export class ModelHost {
  readonly llama: Llama;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly contextTokens: number;
  readonly #free: LlamaContextSequence[] = [];
  readonly #waiters: (() => void)[] = [];
  #embeddingContext: Promise<LlamaEmbeddingContext> | undefined;
  /** The thread choice, measured again while serving when it was provisional or looks wrong (ADR 0032). */
  readonly #tuner: ThreadTuner;
  /** A re-calibration holds the cores and a sequence: acquire() waits. */
  #isCalibrating = false;
  /** Generations evaluating a prompt chunk now: while any is, decodes run on the batch count. */
  #batchUsers = 0;
  readonly plan: ModelPlanReport;
  /** Preempted generations' saved states and the persistent prompt cache (kv-state.ts). */
  readonly kv: KvState;
  /** Holds each sequence's decode until the others' are asked for: one batch per step (ADR 0030). */
  readonly gather: DecodeGather;
  /** --speculative: whether generations attach a token predictor to their sequence (speculation.ts). */
  readonly speculative: SpeculativeMode;
  /** --draft-model: drafts for the speculating generations instead of prompt lookup (ADR 0041). */
  readonly draft: DraftModel | undefined;
  /** Decoding ahead on the native worker while a sequence decodes alone (ADR 0055). */
  readonly runAhead: RunAhead;

  private constructor(parts: {
    llama: Llama;
    model: LlamaModel;
    context: LlamaContext;
    plan: ModelPlanReport;
    kv: KvState;
    speculative: SpeculativeMode;
    draft: DraftModel | undefined;
    threads: ThreadDecision;
    calibration: ChooseThreadsOptions;
    coalesceMs: number;
    log: RunnerLog;
  }) {
    this.llama = parts.llama;
    this.model = parts.model;
    this.context = parts.context;
    this.contextTokens = parts.context.contextSize;
    this.plan = parts.plan;
    this.kv = parts.kv;
    installSampleGate(parts.context);
    benchFusedSample(parts.context);
    this.runAhead = new RunAhead(parts.context, { coalesceMs: parts.coalesceMs });
    this.gather = new DecodeGather(parts.context, {
      order: benchGatherOrder(),
      onActiveChange: () => this.#applyThreads(),
    });
    const speculative = speculativeModeFor(parts.speculative, {
      hasDraftModel: parts.draft !== undefined,
      hasRunAhead: this.runAhead.isOn,
      weightBytes: parts.model.size,
    });
    if (speculative.reason !== undefined) parts.log("info", speculative.reason);
    this.speculative = speculative.mode;
    this.draft = parts.draft;
    // With a draft model its loader took the sequences to pair them with draft sequences.
    this.#free.push(...(parts.draft?.targetSequences ?? []));
    while (this.context.sequencesLeft > 0) this.#free.push(this.context.getSequence());
    this.#tuner = createHostThreadTuner({
      llama: this.llama,
      decision: parts.threads,
      calibration: parts.calibration,
      inFlight: () => this.inFlight,
      isOnBatchCount: () => this.#isOnBatchCount(),
      borrowSequence: () => {
        this.#isCalibrating = true;
        this.runAhead.stop();
        return this.#free.pop()!;
      },
      giveBack: (sequence) => {
        this.#isCalibrating = false;
        this.#free.push(sequence);
        for (const wake of this.#waiters.splice(0)) wake();
      },
      onChoice: (choice) => {
        this.plan.threads = choice;
      },
    });
  }

  /** Generations holding a sequence now (and a re-calibration). */
  get inFlight(): number {
    return this.context.totalSequences - this.#free.length;
  }

  /** The served thread trial is measuring: its generations should decode as plainly as they can. */
  get isThreadTrialRunning(): boolean {
    return this.#tuner.isTrialRunning;
  }

  /** One generation's decode, for the live check of the thread choice (thread-tuner.ts). */
  recordDecode(tokens: number, decodeMs: number): void {
    this.#tuner.recordDecode(tokens, decodeMs, this.inFlight - 1);
  }

  /**
   * Opens the engine on the chosen backend, plans the offload from the header facts in the load
   * message, loads the model, picks the thread count (flag, cached calibration, or a calibration
   * now) and creates the context; records resident memory before and after for the plan report.
   */
  static async load(options: RunnerLoadOptions, log: RunnerLog): Promise<ModelHost> {
    const startedMs = systemTime.monotonicNow();
    const tuning = tuningOf(options);
    const maxThreads = maxThreadsFor(options.threads, tuning.threadCandidates);
    const llamaLog = new LlamaLogFilter(log);
    const engine = await openEngine({
      gpu: options.gpu,
      requestedGpu: tuning.requestedGpu,
      engineBuild: tuning.engineBuild ?? "prebuilt",
      maxThreads,
      log: llamaLog.log,
    });
    const { llama } = engine;
    const baseline = readResidentMemorySync("self");
    // The same cap the planner applies: the asked-for context, at most the training context.
    const contextSize = effectiveContextTokens(options.contextTokens, options.shape.trainContextTokens);
    const batchTokens = Math.min(512, contextSize);
    let offload = await planForEngine(engine, { load: options, batchTokens });
    if (offload.warning !== undefined) log("warn", offload.warning);
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: offload.gpuLayers });
    } catch (error) {
      // node-llama-cpp checks an explicit layer count against its own (simulated) estimate: when
      // it disagrees with the planner, let it pick the layers, and say so in the plan.
      if (
        !(error instanceof InsufficientMemoryError) ||
        offload.gpuLayers === 0 ||
        tuning.gpuLayers !== "auto"
      )
        throw error;
      model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: "auto" });
      const planned = offload.gpuLayers;
      offload = await planForEngine(engine, { load: options, batchTokens, gpuLayers: model.gpuLayers });
      offload = {
        ...offload,
        reason: `the planner fitted ${planned} layers but node-llama-cpp's own estimate did not (${error.message}); it chose ${model.gpuLayers}`,
      };
      log("warn", offload.reason);
    }
    await llamaLog.endLoad();
    const engineEstimate = await estimateWithEngine(model, {
      gpuLayers: offload.gpuLayers,
      contextTokens: contextSize,
      sequences: options.parallel,
      batchTokens,
    });
    // With --threads auto the context may use up to maxThreads; llama.maxThreads then switches between the chosen counts.
    const threadSetting = options.threads > 0 ? options.threads : { ideal: maxThreads, min: 1 };
    const flashAttention = chooseFlashAttention(tuning.flashAttention ?? "auto", {
      keyLength: options.shape.keyLength,
      gpuLayers: model.gpuLayers,
    });
    const context = await model.createContext({
      contextSize,
      sequences: options.parallel,
      threads: threadSetting,
      batchSize: batchTokens,
      flashAttention: flashAttention.option,
    });
    const calibration: ChooseThreadsOptions = {
      llama,
      context,
      requested: options.threads,
      modelPath: options.modelPath,
      engineKey: `${llama.buildType}-${engine.backend}`,
      cacheDirectory: tuning.cacheDirectory,
      candidates: tuning.threadCandidates,
      loadProbe: loadProbeFor(tuning.loadProbe),
      log,
    };
    const decision = await chooseThreads(calibration);
    const threads = decision.choice;
    llama.maxThreads = threads.threads;
    const loaded = readResidentMemorySync("self");
    const plan: ModelPlanReport = {
      backend: engine.backend,
      engineBuild: llama.buildType,
      gpuLayers: offload.gpuLayers,
      totalLayers: offload.totalLayers,
      offload: offload.offload,
      reason: offload.reason,
      warning: offload.warning,
      threads,
      contextTokens: contextSize,
      sequences: options.parallel,
      batchTokens,
      flashAttention,
      marginBytes: offload.marginBytes,
      estimate: offload.estimate,
      engineEstimate,
      measured:
        baseline === undefined || loaded === undefined
          ? undefined
          : {
              baselineResidentBytes: baseline.residentBytes,
              loadedResidentBytes: loaded.residentBytes,
              modelResidentBytes: loaded.residentBytes - baseline.residentBytes,
              modelAnonymousBytes: loaded.anonymousBytes - baseline.anonymousBytes,
              modelFileBytes: loaded.fileBytes - baseline.fileBytes,
            },
      loadMs: Math.round(systemTime.monotonicNow() - startedMs),
    };
    const kv = await openKvState({ load: options, llama, model, context, backend: engine.backend, log });
    const draft = await loadDraft({
      load: options,
      llama,
      context,
      threadSetting,
      gpuLayers: offload.gpuLayers,
      log,
    });
    return new ModelHost({
      llama,
      model,
      context,
      plan,
      kv,
      speculative: tuning.speculative ?? "off",
      draft,
      threads: decision,
      calibration,
      coalesceMs: tuning.streamCoalesceMs ?? defaultStreamCoalesceMs,
      log,
    });
  }

  describe(): LoadedMessage {
    const hasTemplate = typeof this.model.fileInfo.metadata.tokenizer?.chat_template === "string";
    return {
      type: "loaded",
      contextTokens: this.contextTokens,
      parallel: this.context.totalSequences,
      trainContextTokens: this.model.trainContextSize,
      threads: this.#tuner.choice.threads,
      backend: this.plan.backend,
      chatTemplate: hasTemplate ? "model" : "plain-fallback",
      memoryBytes: this.plan.estimate.totalBytes,
      plan: this.plan,
    };
  }

  /**
   * Prompt chunks run on the batch thread count, single-token decoding on the decode count
   * (docs/decisions/0011); node-llama-cpp applies llama.maxThreads at each llama_decode. Call
   * `endBatch` once per `beginBatch`.
   */
  beginBatch(): void {
    this.#batchUsers += 1;
    this.#applyThreads();
  }

  endBatch(): void {
    this.#batchUsers -= 1;
    this.#applyThreads();
  }

  /**
   * Several sequences decoding together also run on the batch count: a step of several tokens
   * spreads over threads the way a prompt chunk does, while one token's graph may not (ADR 0055:
   * on stories260K 2 threads decode one stream at ~0.6× of 1, four streams at ~1.4×).
   */
  #isOnBatchCount(): boolean {
    return this.#batchUsers > 0 || this.gather.active >= 2;
  }

  #applyThreads(): void {
    const threads = this.#isOnBatchCount() ? this.#tuner.choice.batchThreads : this.#tuner.decodeThreads;
    if (this.llama.maxThreads !== threads) this.llama.maxThreads = threads;
  }

  /** Takes the free sequence with the longest cached prefix of `tokens` (lowest id on a tie); waits when none is free. */
  async acquire(tokens: readonly Token[], signal: AbortSignal): Promise<LlamaContextSequence> {
    while (this.#free.length === 0 || this.#isCalibrating) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.#waiters.push(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
    const bestIndex = chooseSequence(
      this.#free.map((sequence) => ({
        sharedTokens: sharedPrefixLength(sequence.contextTokens, tokens),
        sequenceId: sequenceIdOf(sequence),
      })),
    );
    // A burst of the generation decoding alone would delay this one's prompt.
    this.runAhead.stop();
    return this.#free.splice(bestIndex, 1)[0]!;
  }

  release(sequence: LlamaContextSequence): void {
    this.#free.push(sequence);
    this.#waiters.shift()?.();
  }

  embeddingContext(): Promise<LlamaEmbeddingContext> {
    this.#embeddingContext ??= this.model.createEmbeddingContext({
      contextSize: Math.min(this.contextTokens, 2048),
      threads: this.#tuner.choice.threads,
    });
    return this.#embeddingContext;
  }

  async dispose(): Promise<void> {
    this.#tuner.dispose();
    await settleSaves(this.kv);
    this.kv.preempted.disposeSync();
    await this.llama.dispose();
  }
}

function sharedPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const max = Math.min(a.length, b.length);
  let index = 0;
  while (index < max && a[index] === b[index]) index++;
  return index;
}
