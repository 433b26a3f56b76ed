/**
 * A generation that may call tools, through the model's own chat template: node-llama-cpp's
 * LlamaChat with `functions` renders the tool definitions the template's way and constrains the
 * call syntax with a grammar, so whatever the model samples inside a call is a well-formed call.
 * `tool_choice` "required" or a named function starts the reply inside a call (the template's
 * call prefix is appended to the prompt and function-call mode is engaged from the first token);
 * "auto" lets the model choose between text and a call. See docs/decisions/0020-tool-calling.md.
 */
import {
  LlamaChat,
  LlamaText,
  resolveChatWrapper,
  type ChatModelFunctions,
  type ChatWrapper,
} from "node-llama-cpp";
import { systemTime, type ChatMessage, type ToolCall, type ToolOptions } from "../../core/index.js";
import { templateSupportsTools } from "../../core/index.js";
import { toChatHistory } from "./chat-history.js";
import { toGrammarSchema } from "./tool-schema.js";
import { GenerationError } from "./generation-error.js";
import type { GenerationOptions } from "./generation.js";

export async function runToolGeneration(
  options: GenerationOptions,
  messages: ChatMessage[],
  tools: ToolOptions,
): Promise<void> {
  const { host, request, signal } = options;
  const model = host.model;
  const template = model.fileInfo.metadata.tokenizer?.chat_template;
  if (!templateSupportsTools(template)) {
    throw new GenerationError(
      "tools-not-supported",
      `The model "${request.model}" cannot call tools: its chat template has no tool calling. Use a model whose template supports tools (Llama 3.1, Qwen 2.5, Mistral …), or send the request without tools.`,
    );
  }
  if (request.json !== undefined) {
    throw new GenerationError(
      "bad-request",
      "A JSON response format cannot be combined with tools (the tool calls have their own grammar); send one or the other.",
    );
  }
  const functions = functionsFor(tools);
  await checkSchemas(host, functions);
  const forced = tools.choice !== "auto";
  const wrapper = resolveChatWrapper(model);
  const chatWrapper = forced ? startInsideCall(wrapper, tools.parallel) : wrapper;
  const history = toChatHistory(messages);
  const startedAt = systemTime.monotonicNow();
  const prompt = (forced ? chatWrapper : wrapper)
    .generateContextState({ chatHistory: history, availableFunctions: functions })
    .contextText.tokenize(model.tokenizer);
  const promptTokens = prompt.length;
  const contextTokens = Math.min(host.contextTokens, request.contextLimitTokens ?? host.contextTokens);
  if (promptTokens >= contextTokens) {
    throw new GenerationError(
      "prompt-too-long",
      `The prompt with its tool definitions is ${promptTokens} tokens but the model "${request.model}" has a context of ${contextTokens} tokens per sequence for this request; shorten the conversation or the tools, or raise the context size.`,
    );
  }
  const sequence = await host.acquire(prompt, signal);
  const cachedBefore = sharedPrefixLength(sequence.contextTokens, prompt);
  const chat = new LlamaChat({ contextSequence: sequence, chatWrapper });
  // The prompt runs on the batch thread count, the decoding on the decode count (as generation.ts).
  host.beginBatch();
  let isBatch = true;
  const endBatch = (): void => {
    if (isBatch) host.endBatch();
    isBatch = false;
  };
  let completionTokens = 0;
  const unsentTokenIds: number[] = [];
  const callId = (index: number): string => `call_${request.id}_${index}`;
  const streamedArguments = new Map<number, string>();
  let firstTokenAt: number | undefined;
  try {
    const { sampling } = request;
    const result = await chat.generateResponse(history, {
      functions,
      maxParallelFunctionCalls: tools.parallel ? undefined : 1,
      // Never past the context: LlamaChat would drop earlier turns to make room.
      maxTokens: Math.min(request.maxTokens, contextTokens - promptTokens - 1),
      signal,
      stopOnAbortSignal: true,
      temperature: sampling.temperature,
      ...(sampling.topK === undefined ? {} : { topK: sampling.topK }),
      ...(sampling.topP === undefined ? {} : { topP: sampling.topP }),
      ...(sampling.minP === undefined ? {} : { minP: sampling.minP }),
      seed: sampling.seed ?? Math.floor(Math.random() * 2 ** 31),
      ...(request.stop.length === 0 ? {} : { customStopTriggers: request.stop }),
      onToken: (tokens) => {
        firstTokenAt ??= systemTime.monotonicNow();
        endBatch();
        completionTokens += tokens.length;
        unsentTokenIds.push(...tokens);
      },
      onTextChunk: (text) => {
        if (text.length === 0) return;
        // The tokens sampled since the last text (LlamaChat reports tokens and text apart).
        const tokenIds = unsentTokenIds.splice(0);
        options.emit({ type: "text-delta", text, tokenCount: 1, tokenIds });
      },
      onFunctionCallParamsChunk: (chunk) => {
        const index = chunk.callIndex;
        streamedArguments.set(index, (streamedArguments.get(index) ?? "") + chunk.paramsChunk);
        if (chunk.paramsChunk.length === 0 && streamedArguments.get(index) !== "") return;
        const id = callId(index);
        options.emit({
          type: "tool-call-delta",
          index,
          id,
          name: chunk.functionName,
          argumentsDelta: chunk.paramsChunk,
        });
      },
    });
    const calls: ToolCall[] = (result.functionCalls ?? []).map((call, index) => {
      const streamed = streamedArguments.get(index) ?? "";
      // The arguments as the model wrote them (what was streamed), when they are the call's JSON.
      const text = isJsonText(streamed) ? streamed : JSON.stringify(call.params ?? {});
      if (text !== streamed) {
        // A call without parameters streams nothing; its "{}" goes out here.
        options.emit({
          type: "tool-call-delta",
          index,
          id: callId(index),
          name: call.functionName,
          argumentsDelta: text.slice(streamed.length),
        });
      }
      return { id: callId(index), name: call.functionName, arguments: text };
    });
    calls.forEach((call, index) => options.emit({ type: "tool-call", index, call }));
    const stopReason = result.metadata.stopReason;
    const reason =
      calls.length > 0
        ? "tool-calls"
        : stopReason === "abort"
          ? "cancelled"
          : stopReason === "maxTokens"
            ? "length"
            : "stop";
    const now = systemTime.monotonicNow();
    options.emit({
      type: "end",
      reason,
      usage: { promptTokens, completionTokens, cachedTokens: cachedBefore },
      timings: {
        loadMs: 0,
        promptMs: (firstTokenAt ?? now) - startedAt,
        decodeMs: now - (firstTokenAt ?? now),
      },
    });
  } finally {
    endBatch();
    chat.dispose({ disposeSequence: false });
    host.release(sequence);
  }
}

function functionsFor(tools: ToolOptions): ChatModelFunctions {
  const choice = tools.choice;
  const named = typeof choice === "object" ? choice.name : undefined;
  const definitions = tools.definitions.filter((tool) => named === undefined || tool.name === named);
  if (definitions.length === 0) {
    throw new GenerationError(
      "bad-request",
      `tool_choice names the function "${named}", which is not among the request's tools.`,
    );
  }
  return Object.fromEntries(
    definitions.map((tool) => [
      tool.name,
      {
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...(tool.parameters === undefined ? {} : { params: toGrammarSchema(tool.parameters) as never }),
      },
    ]),
  );
}

/**
 * The wrapper with its prompt ending inside a call: the (section and) call prefix follows the
 * assistant header, and function-call mode is engaged from the first sampled token, so the
 * grammar makes the reply a call of one of the offered functions.
 */
function startInsideCall(wrapper: ChatWrapper, parallel: boolean): ChatWrapper {
  const callSettings = wrapper.settings.functions;
  const prefix = LlamaText([
    parallel ? (callSettings.parallelism?.call.sectionPrefix ?? "") : "",
    callSettings.call.prefix,
  ]);
  const generateContextState: ChatWrapper["generateContextState"] = (state) => {
    const context = wrapper.generateContextState(state);
    return {
      contextText: LlamaText([context.contextText, prefix]),
      stopGenerationTriggers: context.stopGenerationTriggers,
      ...(context.ignoreStartText === undefined ? {} : { ignoreStartText: context.ignoreStartText }),
      functionCall: { initiallyEngaged: true, disengageInitiallyEngaged: [] },
    };
  };
  return new Proxy(wrapper, {
    get(target, property) {
      if (property === "generateContextState") return generateContextState;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function isJsonText(text: string): boolean {
  if (text.trim().length === 0) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A schema the grammar cannot express is the request's fault: a 400 naming the tool, not a crash mid-generation. */
async function checkSchemas(host: GenerationOptions["host"], functions: ChatModelFunctions): Promise<void> {
  for (const [name, definition] of Object.entries(functions)) {
    if (definition.params === undefined) continue;
    try {
      await host.llama.createGrammarForJsonSchema(definition.params as never);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new GenerationError(
        "bad-request",
        `The parameters schema of tool "${name}" is not supported: ${reason}`,
      );
    }
  }
}

function sharedPrefixLength(a: readonly number[], b: readonly number[]): number {
  const max = Math.min(a.length, b.length);
  let index = 0;
  while (index < max && a[index] === b[index]) index++;
  return index;
}
