/**
 * FakeEngine: an in-process engine for fast tests of everything above the engine. Words are
 * tokens; replies come from a script; delays and faults (load failure, crash after N tokens)
 * are injected per model. It is pull-based like the real runner, so backpressure is real:
 * `producedTokens` shows how far generation ran ahead of the reader.
 */
import {
  AppError,
  systemTime,
  type EmbedResult,
  type GenerateEvent,
  type GenerateRequest,
  type TimePort,
  type TokenizerRequest,
  type TokenizerResult,
} from "../core/index.js";
import type { InferenceEngine, LoadedModelInfo, LoadSpec, ModelRunner, RunnerExit } from "./contract.js";
import { scriptedToolCalls, type FakeToolCall } from "./fake-tool-calls.js";
import { renderPlainChat } from "./plain-chat.js";
import { StopMatcher } from "./stop-matcher.js";

export interface FakeModelBehaviour {
  /** The reply, split on spaces into tokens. Default: a fixed sentence. */
  reply?: string;
  /** Delay before each token, in ms. Default 0. The first token also waits this long. */
  tokenDelayMs?: number;
  loadDelayMs?: number;
  /** How long dispose() takes, in ms (a runner process takes a moment to exit). Default 0. */
  unloadDelayMs?: number;
  /** Make load fail with model-load-failed and this message. */
  loadError?: string;
  /** Crash the runner (fail every in-flight request) after this many tokens. */
  crashAfterTokens?: number;
  /**
   * The model can call tools and calls these when a request offers them (filtered by the offered
   * tools and tool_choice). Undefined: a request with tools fails with tools-not-supported.
   */
  toolCalls?: FakeToolCall[];
}

export const defaultFakeReply =
  "Once upon a time there was a little fake model that answered every prompt the same way.";

function countTokens(text: string): number {
  return text.split(/\s+/).filter((word) => word.length > 0).length;
}

class FakeRunner implements ModelRunner {
  readonly name: string;
  readonly info: LoadedModelInfo;
  readonly exited: Promise<RunnerExit>;
  #isAlive = true;
  #resolveExit!: (exit: RunnerExit) => void;
  readonly #behaviour: FakeModelBehaviour;
  readonly #time: TimePort;
  readonly #crashListeners = new Set<(error: AppError) => void>();
  /** Running request ids, true once preempted. */
  readonly #preemptions = new Map<string, boolean>();
  producedTokens = 0;

  constructor(spec: LoadSpec, behaviour: FakeModelBehaviour, time: TimePort) {
    this.name = spec.name;
    this.#behaviour = behaviour;
    this.#time = time;
    this.info = {
      contextTokens: spec.contextTokens,
      parallel: spec.parallel,
      trainContextTokens: spec.contextTokens,
      threads: spec.threads,
      backend: "fake",
      chatTemplate: "plain-fallback",
      pid: undefined,
      memoryBytes: 1024 * 1024,
    };
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
  }

  get isAlive(): boolean {
    return this.#isAlive;
  }

  async *generate(request: GenerateRequest, signal: AbortSignal): AsyncGenerator<GenerateEvent> {
    const input = request.input;
    const prompt =
      input.kind === "chat"
        ? input.messages.map((message) => message.content).join("\n")
        : input.kind === "infill"
          ? [
              ...(input.extra ?? []).map((chunk) => chunk.text),
              input.prefix,
              input.prompt ?? "",
              input.suffix,
            ].join("")
          : input.prompt;
    const promptTokens = countTokens(prompt) + 1;
    if (promptTokens >= this.info.contextTokens) {
      throw new AppError(
        "prompt-too-long",
        `The prompt is ${promptTokens} tokens but the model "${this.name}" is loaded with a context of ${this.info.contextTokens} tokens per sequence.`,
      );
    }
    const toolCalls = scriptedToolCalls(request, this.name, this.#behaviour.toolCalls);
    if (request.reportProgress)
      yield { type: "progress", processedTokens: promptTokens, totalTokens: promptTokens, cachedTokens: 0 };
    if (toolCalls !== undefined) {
      for (const [index, call] of toolCalls.entries()) yield { type: "tool-call", index, call };
      const usage = { promptTokens, completionTokens: toolCalls.length, cachedTokens: 0 };
      yield { type: "end", reason: "tool-calls", usage, timings: { loadMs: 0, promptMs: 0, decodeMs: 0 } };
      return;
    }
    const words = (this.#behaviour.reply ?? defaultFakeReply).split(" ");
    const matcher = new StopMatcher(request.stop);
    if (request.resume !== undefined) matcher.push(request.resume.heldText);
    // Tokens are word indexes: a resume continues at the word after the last one produced.
    const generated = [...(request.resume?.generatedTokens ?? [])];
    const startedMs = this.#time.monotonicNow();
    let crash: AppError | undefined;
    const onCrash = (error: AppError): void => {
      crash = error;
    };
    this.#crashListeners.add(onCrash);
    this.#preemptions.set(request.id, false);
    let reason: "stop" | "length" | "cancelled" = "stop";
    const usage = () => ({ promptTokens, completionTokens: generated.length, cachedTokens: 0 });
    const timings = () => ({ loadMs: 0, promptMs: 0, decodeMs: this.#time.monotonicNow() - startedMs });
    try {
      // A word's id is its index; words the stop matcher holds go with the next text.
      const unsentTokenIds: number[] = [];
      for (let index = generated.length; index < words.length; index++) {
        if (generated.length >= request.maxTokens) {
          reason = "length";
          break;
        }
        if (this.#behaviour.tokenDelayMs) await this.#time.sleep(this.#behaviour.tokenDelayMs);
        if (crash) throw crash;
        if (this.#preemptions.get(request.id) === true) {
          yield {
            type: "preempted",
            resume: { generatedTokens: generated, heldText: matcher.flush() },
            usage: usage(),
            timings: timings(),
          };
          return;
        }
        if (signal.aborted) {
          reason = "cancelled";
          break;
        }
        this.producedTokens += 1;
        generated.push(index);
        if (
          this.#behaviour.crashAfterTokens !== undefined &&
          this.producedTokens > this.#behaviour.crashAfterTokens
        ) {
          this.crash("fake crash injected");
          throw crash ?? new AppError("runner-crashed", "fake crash");
        }
        const match = matcher.push(index === 0 ? words[index]! : ` ${words[index]}`);
        unsentTokenIds.push(index);
        if (match.text.length > 0) {
          yield { type: "text-delta", text: match.text, tokenCount: 1, tokenIds: unsentTokenIds.splice(0) };
        }
        if (match.isStopped) break;
      }
      const rest = reason === "cancelled" ? "" : matcher.flush();
      if (rest.length > 0)
        yield { type: "text-delta", text: rest, tokenCount: 0, tokenIds: unsentTokenIds.splice(0) };
      yield { type: "end", reason, usage: usage(), timings: timings() };
    } finally {
      this.#crashListeners.delete(onCrash);
      this.#preemptions.delete(request.id);
    }
  }

  preempt(requestId: string): void {
    if (this.#preemptions.has(requestId)) this.#preemptions.set(requestId, true);
  }

  async embed(inputs: string[]): Promise<EmbedResult> {
    const vectors = inputs.map((input) => {
      const raw = [input.length, countTokens(input), 1];
      const norm = Math.hypot(...raw);
      return raw.map((value) => value / norm);
    });
    return { vectors, promptTokens: inputs.reduce((sum, input) => sum + countTokens(input), 0) };
  }

  /** One token per character (its code point), BOS = 1; the plain chat fallback as the template. */
  async tokenizer(request: TokenizerRequest): Promise<TokenizerResult> {
    switch (request.kind) {
      case "tokenize": {
        const characters = [...request.text];
        const tokens = characters.map((character) => character.codePointAt(0)!);
        return {
          kind: "tokenize",
          tokens: request.addSpecial ? [1, ...tokens] : tokens,
          pieces: request.withPieces ? [...(request.addSpecial ? ["<s>"] : []), ...characters] : undefined,
        };
      }
      case "detokenize":
        if (request.tokens.some((id) => id > 0x10ffff))
          throw new AppError("bad-request", "A token id is not in the fake model's vocabulary.");
        return {
          kind: "detokenize",
          content: String.fromCodePoint(...request.tokens.filter((id) => id !== 1)),
        };
      case "apply-template":
        return { kind: "apply-template", prompt: renderPlainChat(request.messages) };
    }
  }

  /** Simulates kill -9 of the runner. */
  crash(detail: string): void {
    if (!this.#isAlive) return;
    this.#isAlive = false;
    const error = new AppError(
      "runner-crashed",
      `The runner for "${this.name}" crashed: ${detail}. The server is still up; the next request reloads the model.`,
    );
    for (const listener of this.#crashListeners) listener(error);
    this.#resolveExit({ expected: false, detail });
  }

  async dispose(): Promise<void> {
    if (!this.#isAlive) return;
    this.#isAlive = false;
    if (this.#behaviour.unloadDelayMs !== undefined) await this.#time.sleep(this.#behaviour.unloadDelayMs);
    this.#resolveExit({ expected: true, detail: "disposed" });
  }
}

export interface FakeEngineOptions {
  /** What the injected delays wait on; tests of the scheduler pass a FakeTime. Default: real time. */
  time?: TimePort;
}

export class FakeEngine implements InferenceEngine {
  readonly #behaviours = new Map<string, FakeModelBehaviour>();
  readonly #time: TimePort;
  readonly runners: FakeRunner[] = [];
  loads = 0;

  constructor(behaviours: Record<string, FakeModelBehaviour> = {}, options: FakeEngineOptions = {}) {
    this.#time = options.time ?? systemTime;
    for (const [name, behaviour] of Object.entries(behaviours)) this.#behaviours.set(name, behaviour);
  }

  setBehaviour(model: string, behaviour: FakeModelBehaviour): void {
    this.#behaviours.set(model, behaviour);
  }

  async load(spec: LoadSpec, signal?: AbortSignal): Promise<ModelRunner> {
    this.loads += 1;
    const behaviour = this.#behaviours.get(spec.name) ?? {};
    if (behaviour.loadDelayMs) await this.#time.sleep(behaviour.loadDelayMs);
    signal?.throwIfAborted();
    if (behaviour.loadError !== undefined) {
      throw new AppError("model-load-failed", `Model "${spec.name}" failed to load: ${behaviour.loadError}`);
    }
    const runner = new FakeRunner(spec, behaviour, this.#time);
    this.runners.push(runner);
    return runner;
  }

  /** The most recent live runner of a model, for fault injection in tests. */
  runnerFor(model: string): FakeRunner | undefined {
    return this.runners.filter((runner) => runner.name === model && runner.isAlive).at(-1);
  }
}

export type { FakeRunner };
