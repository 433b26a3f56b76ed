/**
 * One generation inside a runner, on the low-level `sequence.evaluate()` generator: it is
 * lazy, so not pulling the next token pauses decoding (backpressure), and an abort stops it
 * within one token. The prompt is evaluated in chunks so a long prefill neither blocks
 * cancellation nor starves the other sequences of the context for its whole duration.
 */
import type { LlamaContextSequence, LlamaGrammar, Token } from "node-llama-cpp";
import {
  systemTime,
  type FinishReason,
  type GenerateEvent,
  type GenerateRequest,
  type GenerationTimings,
  type ResumeState,
  type Usage,
} from "../../core/index.js";
import { StopMatcher } from "../stop-matcher.js";
import type { CreditGate } from "./credit-gate.js";
import { GenerationError } from "./generation-error.js";
import { restoreInto, saveAfter } from "./kv-state.js";
import type { ModelHost } from "./model-host.js";
import { preparePrompt } from "./prompt.js";
import { runAheadOption } from "./run-ahead.js";
import { isPenaltyActive, resolveGrammar, samplingFor } from "./sampling-options.js";
import { startSpeculation, type SpeculationCounts } from "./speculation.js";
import { runToolGeneration } from "./tools.js";
import { evaluateTokens } from "./token-logprobs.js";

/** Prompt tokens evaluated per step while other work may be waiting. */
const prefillChunkTokens = 128;
const unknownUnicodeChar = "\uFFFD";

export { GenerationError };

export interface GenerationOptions {
  host: ModelHost;
  request: GenerateRequest;
  signal: AbortSignal;
  gate: CreditGate;
  emit: (event: GenerateEvent) => void;
  /** True when the abort came from the scheduler preempting this generation, not a cancel. */
  isPreempted: () => boolean;
}

export async function runGeneration(options: GenerationOptions): Promise<void> {
  const { host, request, signal } = options;
  const model = host.model;
  if (request.tools !== undefined && request.input.kind === "chat") {
    return runToolGeneration(options, request.input.messages, request.tools);
  }
  const startedAt = systemTime.monotonicNow();
  const prompt = preparePrompt(model, request.input, request.model);
  if (prompt.tokens.length === 0)
    throw new GenerationError("bad-request", "The prompt is empty after tokenization.");
  const contextTokens = contextTokensFor(host, request);
  if (prompt.tokens.length >= contextTokens) {
    throw new GenerationError(
      "prompt-too-long",
      contextTokens < host.contextTokens
        ? `The prompt is ${prompt.tokens.length} tokens but the request's options.num_ctx is ${contextTokens}; shorten the prompt or raise num_ctx (the model "${request.model}" is loaded with ${host.contextTokens}).`
        : `The prompt is ${prompt.tokens.length} tokens but the model "${request.model}" is loaded with a context of ${host.contextTokens} tokens per sequence; shorten it or start the server with a larger --context-size.`,
    );
  }
  const resumed = (request.resume?.generatedTokens ?? []) as Token[];
  // A resumed generation evaluates its prompt plus what it already produced, then goes on.
  const evaluated = resumed.length === 0 ? prompt.tokens : [...prompt.tokens, ...resumed];
  const grammar = await resolveGrammar(host, request);
  const sequence = await host.acquire(evaluated, signal);
  // The prompt, up to and including the first new token, is evaluated on the batch thread count.
  host.beginBatch();
  let isBatch = true;
  let isPreemptedRun = false;
  // While it evaluates, the other sequences' decodes wait for this one's to batch with it.
  let isDecoding = false;
  const stopDecoding = (): void => {
    if (isDecoding) host.gather.leave();
    isDecoding = false;
  };
  let reevaluatedTokens: number | undefined;
  const endBatch = (): void => {
    if (isBatch) host.endBatch();
    isBatch = false;
  };
  /** Keeps the sequence's state for the resume (kv-state.ts), then hands the resume state on. */
  const preempt = async (resume: ResumeState, usage: Usage, timings: GenerationTimings): Promise<void> => {
    isPreemptedRun = true;
    await saveAfter(host.kv, sequence, { request, isPreempted: true, promptTokens: prompt.tokens });
    const evaluatedTokens = Math.max(request.resume?.evaluatedTokens ?? 0, sequence.nextTokenIndex);
    options.emit({
      type: "preempted",
      resume: { ...resume, evaluatedTokens, reevaluatedTokens },
      usage,
      timings,
    });
  };
  try {
    await restoreInto(host.kv, sequence, { request, tokens: evaluated });
    const cachedTokens = await reuseCachedPrefix(sequence, evaluated);
    reevaluatedTokens = reevaluatedOnResume(request, evaluated.length - 1, cachedTokens);
    host.gather.join();
    isDecoding = true;
    const finalChunkStart = await prefill({ ...options, sequence, tokens: evaluated, cachedTokens });
    const promptMs = systemTime.monotonicNow() - startedAt;
    const decodeStart = systemTime.monotonicNow();
    const outcome = await decode({
      ...options,
      sequence,
      prompt,
      finalChunk: evaluated.slice(finalChunkStart),
      grammar,
      onFirstResult: endBatch,
    });
    stopDecoding();
    const usage = {
      promptTokens: prompt.tokens.length,
      completionTokens: outcome.generated.length,
      cachedTokens,
      reevaluatedTokens,
      ...outcome.speculation,
    };
    const timings = { loadMs: 0, promptMs, decodeMs: systemTime.monotonicNow() - decodeStart };
    host.recordDecode(outcome.generated.length, timings.decodeMs);
    if (outcome.reason === "cancelled" && options.isPreempted()) {
      await preempt({ generatedTokens: outcome.generated, heldText: outcome.heldText }, usage, timings);
    } else {
      options.emit({ type: "end", reason: outcome.reason, usage, timings });
    }
  } catch (error) {
    if (!options.isPreempted() || isPreemptedRun) throw error;
    // Preempted while evaluating the prompt: what it evaluated is kept for the resume too.
    const previous = request.resume ?? { generatedTokens: [], heldText: "" };
    const usage = {
      promptTokens: prompt.tokens.length,
      completionTokens: previous.generatedTokens.length,
      cachedTokens: 0,
    };
    await preempt(previous, usage, { loadMs: 0, promptMs: 0, decodeMs: 0 });
  } finally {
    stopDecoding();
    endBatch();
    if (!isPreemptedRun)
      await saveAfter(host.kv, sequence, { request, isPreempted: false, promptTokens: prompt.tokens });
    host.release(sequence);
  }
}

/**
 * Tokens of earlier runs evaluated again by this one (undefined when not a resume): those the
 * preempted run had in its KV (resume.evaluatedTokens) that neither its saved state nor the
 * sequence still held. The last token, always decoded to sample the next, is not counted.
 */
function reevaluatedOnResume(
  request: GenerateRequest,
  toEvaluate: number,
  cachedTokens: number,
): number | undefined {
  if (request.resume === undefined) return undefined;
  const heldBefore = Math.min(request.resume.evaluatedTokens ?? 0, toEvaluate);
  return (request.resume.reevaluatedTokens ?? 0) + Math.max(0, heldBefore - cachedTokens);
}

/** Keeps the sequence's tokens that match the prompt's start; returns how many were kept. */
async function reuseCachedPrefix(sequence: LlamaContextSequence, tokens: Token[]): Promise<number> {
  // At least the last prompt token must be evaluated to get logits for the first new token.
  await sequence.adaptStateToTokens(tokens.slice(0, -1), false);
  return sequence.nextTokenIndex;
}

/**
 * Evaluates the prompt but its last token, a chunk at a time (progress, cancellation, and room
 * for other sequences between chunks). The last token is evaluated alone by
 * `sequence.evaluate()` in decode(), in the llama_decode that samples the first new token.
 *
 * Alone, always: llama.cpp's logits for a token differ slightly (~1e-4) with the size of the
 * batch it is evaluated in, and a seeded sampler turns that into different text now and then.
 * A repeat of a request finds all but the last token cached and evaluates that one alone; the
 * first request must do the same, so the same request and seed give the same text whether or
 * not its prefix was cached (issue #10). The price is one extra llama_decode per request.
 */
async function prefill(
  options: GenerationOptions & { sequence: LlamaContextSequence; tokens: Token[]; cachedTokens: number },
): Promise<number> {
  const { sequence, tokens, cachedTokens, signal, request } = options;
  const finalChunkStart = tokens.length - 1;
  for (let start = sequence.nextTokenIndex; start < finalChunkStart; start += prefillChunkTokens) {
    signal.throwIfAborted();
    if (request.reportProgress) {
      options.emit({ type: "progress", processedTokens: start, totalTokens: tokens.length, cachedTokens });
    }
    await sequence.evaluateWithoutGeneratingNewTokens(
      tokens.slice(start, Math.min(finalChunkStart, start + prefillChunkTokens)),
    );
  }
  signal.throwIfAborted();
  if (request.reportProgress) {
    options.emit({
      type: "progress",
      processedTokens: finalChunkStart,
      totalTokens: tokens.length,
      cachedTokens,
    });
  }
  return finalChunkStart;
}

interface DecodeOptions extends GenerationOptions {
  sequence: LlamaContextSequence;
  prompt: ReturnType<typeof preparePrompt>;
  /** The prompt's last token (on resume: of prompt plus earlier output), not yet evaluated. */
  finalChunk: Token[];
  grammar: LlamaGrammar | undefined;
  /** Called once the final prompt chunk and the first token are evaluated. */
  onFirstResult: () => void;
}

interface DecodeOutcome {
  reason: FinishReason;
  /** Every token generated for this request, across preemptions. */
  generated: Token[];
  /** Text the stop matcher still holds (sent at the end, or carried over a preemption). */
  heldText: string;
  /** What speculative decoding drafted and got accepted; undefined when it was off. */
  speculation: SpeculationCounts | undefined;
}

async function decode(options: DecodeOptions): Promise<DecodeOutcome> {
  const { host, request, signal, gate, sequence, prompt } = options;
  const model = host.model;
  const generated: Token[] = [...((request.resume?.generatedTokens ?? []) as Token[])];
  // Every sampled token, pending ones included: the repeat-penalty window reads it.
  const sampled: Token[] = [...generated];
  const pending: Token[] = [];
  const stopMatcher = new StopMatcher([...request.stop, ...prompt.stopStrings]);
  // Held text was a possible stop-string start when preempted: hold it again.
  if (request.resume !== undefined) stopMatcher.push(request.resume.heldText);
  const stopTokens = new Set(prompt.stopTokens);
  const isCrowded = (): boolean => host.inFlight > 1;
  const speculation = startSpeculation({
    mode: host.speculative,
    draft: host.draft,
    sequence,
    request,
    grammar: options.grammar,
    isCrowded,
    startsPlain: isCrowded() || host.isThreadTrialRunning,
  });
  let hasFirstResult = false;
  const runAhead = runAheadOption({
    runAhead: host.runAhead,
    isPlainSampling:
      request.logprobs === undefined && options.grammar === undefined && !isPenaltyActive(request.sampling),
    sequence,
    signal,
    isEveryoneDecoding: () => host.inFlight <= host.gather.active,
    hasFirstResult: () => hasFirstResult,
    // Room for every step's token: the request's limit, the reader's credit, and the context
    // (the sequence's state counts tokens decoded ahead before they are taken).
    stepsLeft: () =>
      Math.min(
        request.maxTokens - sampled.length - 1,
        gate.available - 1,
        contextTokensFor(host, request) - sequence.nextTokenIndex - 5,
      ),
  });
  const stopRunAhead = (): void => host.runAhead.stop();
  if (runAhead.rawrxdRunAhead !== undefined) signal.addEventListener("abort", stopRunAhead, { once: true });
  const stream = evaluateTokens(sequence, model, {
    tokens: options.finalChunk,
    options: { ...samplingFor(options, sampled), ...runAhead },
    logprobs: request.logprobs,
  });
  const iterator = stream.tokens;
  let reason: FinishReason = "length";
  let speculated: SpeculationCounts | undefined;
  const flushText = (text: string, tokenIds: number[]): void => {
    const tokenCount = tokenIds.length;
    if (text.length === 0 && tokenCount === 0) return;
    gate.spend();
    const logprobs = tokenCount > 0 ? stream.take(tokenCount) : undefined;
    options.emit({
      type: "text-delta",
      text,
      tokenCount,
      tokenIds,
      ...(logprobs === undefined ? {} : { logprobs }),
    });
  };
  // The next token is asked for before this one is detokenized and sent, so the native decode
  // runs while JavaScript works; only when the reader has credit left and the output may go on.
  let next: Promise<IteratorResult<Token>> | undefined = iterator.next();
  try {
    for (;;) {
      const result: IteratorResult<Token> = await next;
      next = undefined;
      hasFirstResult = true;
      options.onFirstResult();
      if (result.done) {
        reason = "stop";
        break;
      }
      const token = result.value;
      if (signal.aborted) {
        reason = "cancelled";
        break;
      }
      if (model.isEogToken(token) || stopTokens.has(token)) {
        reason = "stop";
        break;
      }
      sampled.push(token);
      const mayContinue =
        sampled.length < request.maxTokens && sequence.nextTokenIndex + 2 < contextTokensFor(host, request);
      if (mayContinue && gate.available > 1) next = iterator.next();
      pending.push(token);
      // Without tokens before it the detokenizer drops a SentencePiece token's leading space: the
      // prompt's last token is the first output token's context, so " box" stays " box", as
      // llama-server streams it (docs/decisions/0033).
      const text = model.detokenize(
        pending,
        false,
        generated.length > 0 ? generated : prompt.tokens.slice(-1),
      );
      // Part of a multi-byte character: wait for the rest before sending.
      const isPartialCharacter =
        text.endsWith(unknownUnicodeChar) && !model.isSpecialToken(token) && pending.length < 4;
      if (!(isPartialCharacter && mayContinue)) {
        const tokenIds: number[] = pending.slice();
        generated.push(...pending);
        pending.length = 0;
        const match = stopMatcher.push(text);
        flushText(match.text, tokenIds);
        if (match.isStopped) {
          reason = "stop";
          break;
        }
      }
      if (!mayContinue) {
        reason = "length";
        break;
      }
      if (next === undefined) {
        if (gate.available <= 0) {
          // Waiting for its reader, this sequence has no decode for the next batch.
          host.gather.leave();
          await gate.waitForCredit(signal).finally(() => host.gather.join());
        }
        if (signal.aborted) {
          reason = "cancelled";
          break;
        }
        next = iterator.next();
      }
    }
  } finally {
    signal.removeEventListener("abort", stopRunAhead);
    try {
      // A prefetched token must settle before the generator can be closed.
      await next?.catch(() => undefined);
      await iterator.return();
    } finally {
      // The pooled sequence goes back without a predictor, whatever happened.
      speculated = await speculation.finish();
    }
  }
  if (reason === "cancelled") {
    // Pending tokens (a partial character) are dropped: their text was never sent, and a resume
    // from the same state samples them again.
    return { reason, generated, heldText: stopMatcher.flush(), speculation: speculated };
  }
  flushText(stopMatcher.flush(), []);
  return { reason, generated, heldText: "", speculation: speculated };
}

/** The loaded context, or the request's smaller limit (Ollama num_ctx). */
function contextTokensFor(host: ModelHost, request: GenerateRequest): number {
  return Math.min(host.contextTokens, request.contextLimitTokens ?? host.contextTokens);
}
