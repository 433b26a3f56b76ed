/**
 * Inside a runner process: the loaded model, its one context with `parallel` sequences, and
 * an exclusive pool of those sequences (two generations on one sequence corrupt each other).
 * A request gets the free sequence whose cached tokens share the longest prefix with its prompt.
 */
import {
  getLlama,
  LlamaLogLevel,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import type { LoadedMessage, RunnerLoadOptions } from "../protocol.js";

export type RunnerLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;

export class ModelHost {
  readonly llama: Llama;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly contextTokens: number;
  readonly #free: LlamaContextSequence[] = [];
  readonly #waiters: (() => void)[] = [];
  #embeddingContext: Promise<LlamaEmbeddingContext> | undefined;
  readonly #threads: number;

  private constructor(parts: { llama: Llama; model: LlamaModel; context: LlamaContext; threads: number }) {
    this.llama = parts.llama;
    this.model = parts.model;
    this.context = parts.context;
    this.contextTokens = parts.context.contextSize;
    this.#threads = parts.threads;
    while (this.context.sequencesLeft > 0) this.#free.push(this.context.getSequence());
  }

  static async load(options: RunnerLoadOptions, log: RunnerLog): Promise<ModelHost> {
    const llama = await getLlama({
      gpu: options.gpu === "cpu" ? false : options.gpu,
      // Never compile llama.cpp implicitly, never download: prebuilt binaries or a local opt-in build only.
      build: "never",
      // The default (max(cores, 4)) oversubscribes small machines: 0.3 tok/s instead of ~110.
      maxThreads: options.threads,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => log(level === LlamaLogLevel.debug ? "debug" : level === LlamaLogLevel.info ? "info" : level === LlamaLogLevel.warn ? "warn" : "error", message.trim()),
    });
    const model = await llama.loadModel({ modelPath: options.modelPath });
    const trainContext = model.trainContextSize;
    const contextSize = Math.max(64, Math.min(options.contextTokens, trainContext > 0 ? trainContext : options.contextTokens));
    const context = await model.createContext({
      contextSize,
      sequences: options.parallel,
      threads: options.threads,
      batchSize: Math.min(512, contextSize),
    });
    return new ModelHost({ llama, model, context, threads: options.threads });
  }

  describe(): LoadedMessage {
    const hasTemplate = typeof this.model.fileInfo.metadata.tokenizer?.chat_template === "string";
    return {
      type: "loaded",
      contextTokens: this.contextTokens,
      parallel: this.context.totalSequences,
      trainContextTokens: this.model.trainContextSize,
      threads: this.#threads,
      backend: this.llama.gpu === false ? "cpu" : this.llama.gpu,
      chatTemplate: hasTemplate ? "model" : "plain-fallback",
      memoryBytes: this.model.size + this.context.stateSize,
    };
  }

  /** Takes the free sequence with the longest cached prefix of `tokens`; waits when none is free. */
  async acquire(tokens: readonly Token[], signal: AbortSignal): Promise<LlamaContextSequence> {
    while (this.#free.length === 0) {
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
    let bestIndex = 0;
    let bestShared = -1;
    this.#free.forEach((sequence, index) => {
      const shared = sharedPrefixLength(sequence.contextTokens, tokens);
      if (shared > bestShared) {
        bestShared = shared;
        bestIndex = index;
      }
    });
    return this.#free.splice(bestIndex, 1)[0]!;
  }

  release(sequence: LlamaContextSequence): void {
    this.#free.push(sequence);
    this.#waiters.shift()?.();
  }

  embeddingContext(): Promise<LlamaEmbeddingContext> {
    this.#embeddingContext ??= this.model.createEmbeddingContext({
      contextSize: Math.min(this.contextTokens, 2048),
      threads: this.#threads,
    });
    return this.#embeddingContext;
  }

  async dispose(): Promise<void> {
    await this.llama.dispose();
  }
}

function sharedPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const max = Math.min(a.length, b.length);
  let index = 0;
  while (index < max && a[index] === b[index]) index++;
  return index;
}
