/**
 * Saved KV state in a runner (docs/decisions/0022): the preempted generations' states (always
 * on) and the persistent prompt cache (--prompt-cache). generation.ts calls `restoreInto`
 * after taking a sequence and `saveAfter` before giving it back; the rest lives here.
 */
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { GenerateRequest } from "../../core/index.js";
import type { RunnerLoadOptions } from "../protocol.js";
import type { RunnerLog } from "./load-plan.js";
import { modelDigest } from "./model-digest.js";
import { minPrefixTokens, PromptCacheStore } from "./prompt-cache-store.js";
import { PreemptedStates } from "./sequence-state.js";

/** Saved states of preempted generations may take this much at most (they live until resumed). */
const preemptedStatesMaxBytes = 2 * 1024 ** 3;

export interface KvState {
  preempted: PreemptedStates;
  promptCache: PromptCacheStore | undefined;
  /** Saves in progress: the runner lets them finish before it disposes the model. */
  pending: Set<Promise<void>>;
}

/** Waits for the saves in progress (a restart right after a request still keeps its prefix). */
export async function settleSaves(kv: KvState): Promise<void> {
  await Promise.allSettled([...kv.pending]);
}

export async function openKvState(options: {
  load: RunnerLoadOptions;
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  backend: string;
  log: RunnerLog;
}): Promise<KvState> {
  const { context, load, log } = options;
  const bytesPerToken = Math.ceil(
    context.stateSize / Math.max(1, context.contextSize * context.totalSequences),
  );
  const preempted = new PreemptedStates({
    maxBytes: load.tuning?.preemptedStateMaxBytes ?? preemptedStatesMaxBytes,
    bytesPerToken,
    log,
  });
  const directory = load.tuning?.promptCacheDirectory;
  const pending = new Set<Promise<void>>();
  if (directory === undefined || directory === "") return { preempted, promptCache: undefined, pending };
  try {
    const promptCache = PromptCacheStore.open({
      directory,
      maxBytes: load.tuning?.promptCacheMaxBytes ?? 4 * 1024 ** 3,
      log,
      identity: {
        modelSha256: await modelDigest(directory, load.modelPath),
        settings: {
          format: "node-llama-cpp-sequence-state",
          engineBuild: options.llama.buildType,
          backend: options.backend,
          gpuLayers: options.model.gpuLayers,
          contextTokens: context.contextSize,
          flashAttention: String(context.flashAttention),
        },
      },
    });
    log(
      "info",
      `Prompt cache: ${promptCache.entryCount} entries (${promptCache.totalBytes} bytes) in ${promptCache.folder}.`,
    );
    return { preempted, promptCache, pending };
  } catch (error) {
    log(
      "warn",
      `The prompt cache in ${directory} cannot be used (${error instanceof Error ? error.message : String(error)}); serving without it. Check the folder exists and is writable.`,
    );
    return { preempted, promptCache: undefined, pending };
  }
}

/**
 * Before the prompt is adapted: a resumed generation gets its saved state back, any request the
 * longest persisted prefix of its tokens. `tokens` is what the generation will evaluate.
 */
export async function restoreInto(
  kv: KvState,
  sequence: LlamaContextSequence,
  run: { request: GenerateRequest; tokens: readonly Token[] },
): Promise<void> {
  const { request, tokens } = run;
  if (request.resume !== undefined && (await kv.preempted.restore(request.id, sequence, tokens))) return;
  await kv.promptCache?.loadInto(sequence, tokens);
}

/**
 * Before the sequence is released: a preempted generation's state is kept for its resume; an
 * ended one's is persisted when its prompt adds at least `minPrefixTokens` to what the prompt
 * cache holds. Never throws: a failed save only costs recomputation later.
 */
export async function saveAfter(
  kv: KvState,
  sequence: LlamaContextSequence,
  run: { request: GenerateRequest; isPreempted: boolean; promptTokens: readonly Token[] },
): Promise<void> {
  const work = saveNow(kv, sequence, run);
  kv.pending.add(work);
  try {
    await work;
  } finally {
    kv.pending.delete(work);
  }
}

async function saveNow(
  kv: KvState,
  sequence: LlamaContextSequence,
  run: { request: GenerateRequest; isPreempted: boolean; promptTokens: readonly Token[] },
): Promise<void> {
  const { request } = run;
  try {
    if (run.isPreempted) {
      await kv.preempted.save(request.id, sequence);
      return;
    }
    await kv.preempted.discard(request.id);
    const store = kv.promptCache;
    if (store === undefined || request.resume !== undefined) return;
    const newTokens = run.promptTokens.length - 1 - store.longestPrefix(run.promptTokens);
    if (newTokens >= minPrefixTokens && sequence.nextTokenIndex >= run.promptTokens.length - 1)
      await store.save(sequence);
  } catch {
    // Saving is an optimisation: the sequence must go back to the pool whatever happens here.
  }
}
