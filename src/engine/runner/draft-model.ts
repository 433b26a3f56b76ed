/**
 * --draft-model (docs/decisions/0041): a small model of the same vocabulary, loaded in the same
 * runner and the same `Llama` (so its decodes take threads from the same budget: node-llama-cpp's
 * threads splitter never hands out more than `llama.maxThreads` across both contexts), drafts
 * tokens with node-llama-cpp's DraftSequenceTokenPredictor. One draft sequence per target
 * sequence, paired for the host's lifetime; each generation wraps the pair's predictor in the
 * request's DraftPolicy (draft length, adaptive pause), as prompt lookup does.
 */
import {
  DraftSequenceTokenPredictor,
  TokenPredictor,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type SequenceEvaluateOptions,
  type Token,
} from "node-llama-cpp";
import type { RunnerLoadOptions } from "../protocol.js";
import type { DraftPolicy } from "./draft-policy.js";
import { chooseFlashAttention, keyLengthOf, type FlashAttentionSetting } from "./flash-attention.js";
import { tuningOf, type RunnerLog } from "./load-plan.js";
import { maxDraftTokens } from "./speculation.js";

export interface DraftModelOptions {
  llama: Llama;
  path: string;
  /** The target's sequences: each gets its own draft sequence. */
  targetSequences: readonly LlamaContextSequence[];
  /** The target's context size; the draft's is this, at most its training context. */
  contextTokens: number;
  batchTokens: number;
  /** The target context's thread setting: the same budget, shared through the splitter. */
  threads: number | { ideal: number; min: number };
  /** 0 on the CPU; otherwise node-llama-cpp fits the small draft itself. */
  gpuLayers: number | "auto";
  /** Longest draft per step. */
  maxDraftTokens: number;
  /** --flash-attention, decided for the draft's own heads. */
  flashAttention: FlashAttentionSetting;
}

export class DraftModel {
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  /** The target sequences, in the order given: ModelHost pools them. */
  readonly targetSequences: LlamaContextSequence[] = [];
  readonly #predictors = new Map<LlamaContextSequence, DraftSequenceTokenPredictor>();

  private constructor(model: LlamaModel, context: LlamaContext) {
    this.model = model;
    this.context = context;
  }

  static async load(options: DraftModelOptions): Promise<DraftModel> {
    const model = await options.llama.loadModel({ modelPath: options.path, gpuLayers: options.gpuLayers });
    try {
      const flashAttention = chooseFlashAttention(options.flashAttention, {
        keyLength: keyLengthOf(model),
        gpuLayers: model.gpuLayers,
      });
      const context = await model.createContext({
        contextSize: Math.min(options.contextTokens, model.trainContextSize),
        sequences: options.targetSequences.length,
        threads: options.threads,
        batchSize: options.batchTokens,
        flashAttention: flashAttention.option,
      });
      const draft = new DraftModel(model, context);
      for (const target of options.targetSequences) {
        const predictor = new DraftSequenceTokenPredictor(context.getSequence(), {
          maxTokens: options.maxDraftTokens,
        });
        draft.#predictors.set(target, predictor);
        draft.targetSequences.push(target);
      }
      return draft;
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  /** The draft predictor paired with `target`, wrapped in this generation's policy. */
  predictorFor(target: LlamaContextSequence, policy: DraftPolicy): PolicyTokenPredictor | undefined {
    const inner = this.#predictors.get(target);
    return inner === undefined ? undefined : new PolicyTokenPredictor(inner, policy);
  }
}

/**
 * The draft model beside the target (the main process checked its vocabulary): its context
 * holds one sequence per target sequence, created before the pool takes them, and shares the
 * target's thread budget (the same Llama's splitter).
 */
export async function loadDraft(options: {
  load: RunnerLoadOptions;
  llama: Llama;
  context: LlamaContext;
  threadSetting: number | { ideal: number; min: number };
  gpuLayers: number;
  log: RunnerLog;
}): Promise<DraftModel | undefined> {
  const ref = tuningOf(options.load).draftModel;
  if (ref === undefined) return undefined;
  const { context } = options;
  const targets: LlamaContextSequence[] = [];
  while (context.sequencesLeft > 0) targets.push(context.getSequence());
  const draft = await DraftModel.load({
    llama: options.llama,
    path: ref.path,
    targetSequences: targets,
    contextTokens: context.contextSize,
    batchTokens: context.batchSize,
    threads: options.threadSetting,
    gpuLayers: options.gpuLayers === 0 ? 0 : "auto",
    maxDraftTokens,
    flashAttention: tuningOf(options.load).flashAttention ?? "auto",
  });
  options.log(
    "info",
    `draft model "${ref.name}" loaded for speculative decoding (${targets.length} draft sequences)`,
  );
  return draft;
}

/**
 * One generation's view of a draft predictor: the policy decides how much of the draft is
 * offered (0 while paused: the draft model is stopped too, so a pause saves its decodes).
 * Disposing it leaves the inner predictor for the next generation on the same sequence.
 */
export class PolicyTokenPredictor extends TokenPredictor {
  readonly #inner: DraftSequenceTokenPredictor;
  readonly #policy: DraftPolicy;
  #sequence: LlamaContextSequence | undefined;
  #isStopped = false;

  constructor(inner: DraftSequenceTokenPredictor, policy: DraftPolicy) {
    super();
    this.#inner = inner;
    this.#policy = policy;
  }

  override reset(params: {
    targetSequence: LlamaContextSequence;
    stateTokens: Token[];
    evaluateOptions: Readonly<SequenceEvaluateOptions>;
  }): Promise<void> {
    this.#sequence = params.targetSequence;
    this.#isStopped = false;
    return this.#inner.reset(params);
  }

  override pushTokens(tokens: Token[]): void {
    this.#inner.pushTokens(tokens);
    this.#policy.advance(tokens.length);
  }

  override predictTokens(): Token[] | Promise<Token[]> {
    const sequence = this.#sequence;
    if (sequence === undefined) return [];
    const length = this.#policy.nextDraftLength(sequence.tokenPredictions.validated);
    if (length === 0) {
      // Paused: stop the draft model's decodes until drafting resumes.
      if (!this.#isStopped) this.#inner.stop();
      this.#isStopped = true;
      return [];
    }
    this.#isStopped = false;
    const take = (tokens: readonly Token[]): Token[] => {
      const draft = tokens.slice(0, length);
      this.#policy.drafted(draft.length);
      return draft;
    };
    // Draft exactly the policy's length and wait for it: on a shared thread budget a draft that
    // runs ahead concurrently only slows the target, and one that is not waited for is always a
    // step behind (stale drafts, nothing offered).
    const internals = this.#inner as unknown as DraftPredictorInternals;
    internals._minTokens = length;
    internals._maxTokens = length;
    const predicted = this.#inner.predictTokens();
    return predicted instanceof Promise ? predicted.then(take) : take(predicted);
  }

  override stop(untilPredictionsExhausted?: boolean): void {
    this.#inner.stop(untilPredictionsExhausted);
  }

  override dispose(): void {
    this.#inner.stop();
    this.#sequence = undefined;
  }
}

/**
 * node-llama-cpp 3.21.1 internals of DraftSequenceTokenPredictor: the draft length bounds it
 * reads at each step (`predictTokens` waits for `_minTokens`, drafting stops at `_maxTokens`).
 */
interface DraftPredictorInternals {
  _minTokens: number;
  _maxTokens: number;
}
