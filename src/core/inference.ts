/**
 * Domain types of a generation, shared by the API edge, the scheduler and the engine.
 * No wire format lives here: dialects translate into these at the API edge.
 */

export const priorities = ["high", "normal", "low"] as const;
export type Priority = (typeof priorities)[number];

export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** Assistant turns: the tool calls it made (fed back through the template on the next turn). */
  toolCalls?: ToolCall[] | undefined;
  /** Tool turns: the call this result answers (OpenAI `tool_call_id`). */
  toolCallId?: string | undefined;
  /** Tool turns: the function that produced it (Ollama `tool_name`). */
  toolName?: string | undefined;
}

/** A function the model may call: OpenAI `tools[].function`, Ollama `tools[].function`. */
export interface ToolDefinition {
  name: string;
  description?: string | undefined;
  /** JSON schema of the arguments object. */
  parameters?: Record<string, unknown> | undefined;
}

/** none: never call; auto: the model decides; required: at least one call; a name: that function. */
export type ToolChoice = "none" | "auto" | "required" | { name: string };

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments object as JSON text. */
  arguments: string;
}

export interface ToolOptions {
  definitions: ToolDefinition[];
  choice: ToolChoice;
  /** False: at most one call per turn (OpenAI `parallel_tool_calls: false`). */
  parallel: boolean;
}

/** What to generate from: a chat rendered with the model's template, or raw text. */
export type GenerateInput =
  | { kind: "chat"; messages: ChatMessage[] }
  /** Ollama /api/generate: the model's template around system + prompt when it has one, else plain text. */
  | { kind: "instruction"; prompt: string; system?: string | undefined }
  | { kind: "text"; prompt: string; /** Skip the BOS token. */ raw?: boolean }
  /** Fill-in-the-middle with the model's FIM tokens (docs/decisions/0021-fill-in-the-middle.md). */
  | InfillInput;

/** Other files' text placed before the FIM prefix, as llama-server's `input_extra`. */
export interface InfillChunk {
  text: string;
  filename?: string | undefined;
}

/** Rendered as [BOS] extra… <PRE> prefix prompt <SUF> suffix <MID> (PSM order, as llama-server), or SPM. */
export interface InfillInput {
  kind: "infill";
  prefix: string;
  suffix: string;
  /** Text after the prefix (llama-server's `prompt`): the cursor's line so far, for instance. */
  prompt?: string | undefined;
  extra?: InfillChunk[] | undefined;
  /** psm (default): prefix first; spm: suffix first, so an edit at the cursor keeps the suffix cached. */
  order?: "psm" | "spm" | undefined;
}

export interface SamplingOptions {
  /** 0 means greedy. */
  temperature: number;
  topP?: number;
  topK?: number;
  minP?: number;
  seed?: number;
  /** Multiplicative repeat penalty (1 = off) over the last `repeatLastN` tokens. */
  repeatPenalty?: number;
  repeatLastN?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
}

export interface GenerateRequest {
  /** Request id; also the X-Request-Id header. */
  id: string;
  model: string;
  input: GenerateInput;
  /** Upper bound on generated tokens; the engine also stops at the context end. */
  maxTokens: number;
  /**
   * Ollama `num_ctx`: prompt plus output must fit this many tokens when it is below the loaded
   * context (a prompt that does not fit is refused). Undefined: the loaded context.
   */
  contextLimitTokens?: number | undefined;
  /** Stop strings; the matched text is not returned. */
  stop: string[];
  sampling: SamplingOptions;
  /** Constrain output to this JSON schema (true = any JSON object). */
  json?: { schema?: Record<string, unknown> } | undefined;
  /** Functions the model may call, through its chat template (chat input only). */
  tools?: ToolOptions | undefined;
  /**
   * Per-token log-probabilities on each text-delta (OpenAI logprobs), with the `top` most likely
   * alternatives; undefined = not computed (they cost a pass over the vocabulary per token).
   */
  logprobs?: { top: number } | undefined;
  /** Emit `progress` events while the prompt is evaluated. */
  reportProgress: boolean;
  priority: Priority;
  /** The API key that sent it (`anonymous-local` on an open server): request-end names it. */
  apiKeyId?: string | undefined;
  /** The client's address, for request-end (and so the audit log). */
  sourceAddress?: string | undefined;
  /** The priority the client asked for, before its key's cap gave `priority`. */
  priorityAsked?: Priority | undefined;
  /**
   * Continue a preempted generation exactly where it stopped. Set by the scheduler only (or by
   * the cluster's, when a request continues on another node after its node was lost).
   */
  resume?: ResumeState | undefined;
}

/**
 * Where a preempted generation stopped: the tokens it produced (they are appended to the
 * prompt on resume, so greedy output continues exactly) and text held back by the stop matcher.
 */
export interface ResumeState {
  generatedTokens: number[];
  heldText: string;
  /** Tokens of prompt plus output the preempted run had evaluated (held in its KV cache). */
  evaluatedTokens?: number | undefined;
  /** Tokens of earlier runs evaluated again so far (a resume whose saved KV state was not kept). */
  reevaluatedTokens?: number | undefined;
}

/** One generated token's log-probability (natural log, after the request's sampling options). */
export interface TokenLogprob {
  token: string;
  logprob: number;
  /** The most likely tokens at this position, most likely first (as many as asked for). */
  top: { token: string; logprob: number }[];
}

export type FinishReason = "stop" | "length" | "cancelled" | "tool-calls";

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens reused from the sequence's cache instead of evaluated. */
  cachedTokens: number;
  /**
   * Prompt and output tokens evaluated a second time after preemptions (0 when every resume
   * got its saved KV state back); undefined when the request was never resumed.
   */
  reevaluatedTokens?: number | undefined;
  /** Tokens proposed by speculative decoding (prompt lookup); undefined when it was off for the request. */
  draftedTokens?: number | undefined;
  /** Drafted tokens the model confirmed and that went into the output. */
  acceptedTokens?: number | undefined;
}

export interface GenerationTimings {
  /** Time spent waiting for a model load this request caused or waited on. */
  loadMs: number;
  /** Prompt evaluation, until the first generated token. */
  promptMs: number;
  /** First generated token to the end. */
  decodeMs: number;
}

export type GenerateEvent =
  | { type: "progress"; processedTokens: number; totalTokens: number; cachedTokens: number }
  | {
      type: "text-delta";
      text: string;
      tokenCount: number;
      logprobs?: TokenLogprob[] | undefined;
      /**
       * The ids of the tokens this delta stands for (`tokenCount` of them; empty for text the
       * stop matcher held and lets go at the end). Concatenated over a generation they are what
       * `ResumeState.generatedTokens` holds. Engine-internal: never written to HTTP clients.
       */
      tokenIds?: number[] | undefined;
      /**
       * Set when the runner joined deltas that came close together into this one (ADR 0039):
       * the UTF-16 lengths of their texts, in order. Streaming writers give each piece its own
       * SSE event or NDJSON line (textPieces), as if they had come apart. Engine-internal.
       */
      pieceLengths?: number[] | undefined;
    }
  /**
   * A piece of a tool call's arguments as the model writes them (the pieces of a call, joined,
   * are its `arguments`). Optional: an engine may send only the complete `tool-call`.
   */
  | { type: "tool-call-delta"; index: number; id: string; name: string; argumentsDelta: string }
  /** A complete tool call; `index` counts the calls of this generation from 0. */
  | { type: "tool-call"; index: number; call: ToolCall }
  | { type: "end"; reason: FinishReason; usage: Usage; timings: GenerationTimings }
  /** The scheduler took the sequence for a more urgent request; it resumes from `resume`. Never reaches clients. */
  | { type: "preempted"; resume: ResumeState; usage: Usage; timings: GenerationTimings };

/** What the scheduler streams to the API: preemption stays inside the scheduler. */
export type StreamEvent = Exclude<GenerateEvent, { type: "preempted" }>;

export interface EmbedRequest {
  id: string;
  model: string;
  inputs: string[];
}

export interface EmbedResult {
  /** L2-normalised vectors, one per input. */
  vectors: number[][];
  promptTokens: number;
}
