/**
 * The chat playground's state, as plain data and pure functions (unit-tested without a browser):
 * conversations, the request body for /v1/chat/completions, streaming deltas, per-answer figures,
 * edit-and-resend and regenerate.
 */
export type Priority = "high" | "normal" | "low";

export interface ChatParameters {
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  /** Empty: a random seed each time. */
  seed: number | undefined;
  priority: Priority;
  jsonMode: boolean;
}

export const defaultParameters: ChatParameters = {
  temperature: 0.8,
  topP: 0.95,
  topK: 40,
  maxTokens: 256,
  seed: undefined,
  priority: "normal",
  jsonMode: false,
};

export interface AnswerFigures {
  timeToFirstTokenMs: number | undefined;
  tokensPerSecond: number | undefined;
  promptTokens: number | undefined;
  cachedTokens: number | undefined;
  completionTokens: number | undefined;
  totalMs: number;
}

export type MessageState = "streaming" | "done" | "stopped" | "error";

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
  state: MessageState;
  requestId?: string;
  figures?: AnswerFigures;
  error?: string;
}

export interface Conversation {
  id: string;
  title: string;
  model: string;
  system: string;
  parameters: ChatParameters;
  messages: ChatMessage[];
  /** Wall-clock ms of the last change (for ordering the list). */
  updatedAt: number;
}

export function newConversation(options: { id: string; model: string; now: number }): Conversation {
  return {
    id: options.id,
    title: "New conversation",
    model: options.model,
    system: "",
    parameters: { ...defaultParameters },
    messages: [],
    updatedAt: options.now,
  };
}

/** Whether an answer is streaming now (the composer sends nothing else meanwhile). */
export function isStreaming(conversation: Conversation): boolean {
  return conversation.messages.at(-1)?.state === "streaming";
}

/** Adds the user's message and an empty streaming answer. */
export function startAnswer(
  conversation: Conversation,
  turn: { text: string; requestId: string; now: number },
): Conversation {
  const title = conversation.messages.length === 0 ? titleOf(turn.text) : conversation.title;
  return {
    ...conversation,
    title,
    updatedAt: turn.now,
    messages: [
      ...conversation.messages,
      { role: "user", content: turn.text, state: "done" },
      { role: "assistant", content: "", state: "streaming", requestId: turn.requestId },
    ],
  };
}

function titleOf(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 48 ? `${line.slice(0, 47)}…` : line || "New conversation";
}

function updateLast(conversation: Conversation, change: (message: ChatMessage) => ChatMessage): Conversation {
  const last = conversation.messages.at(-1);
  if (last === undefined || last.role !== "assistant") return conversation;
  return { ...conversation, messages: [...conversation.messages.slice(0, -1), change(last)] };
}

export function appendDelta(conversation: Conversation, delta: string): Conversation {
  if (delta === "") return conversation;
  return updateLast(conversation, (message) => ({ ...message, content: message.content + delta }));
}

export function finishAnswer(
  conversation: Conversation,
  end: { state: Exclude<MessageState, "streaming">; figures?: AnswerFigures; error?: string; now: number },
): Conversation {
  const finished = updateLast(conversation, (message) => ({
    ...message,
    state: end.state,
    ...(end.figures === undefined ? {} : { figures: end.figures }),
    ...(end.error === undefined ? {} : { error: end.error }),
  }));
  return { ...finished, updatedAt: end.now };
}

/**
 * Edit-and-resend: keeps the history before user message `index`, drops it and everything after;
 * the caller then starts a new answer with the edited text. Regenerate is the same on the last
 * user message with its own text.
 */
export function truncateBefore(conversation: Conversation, index: number): Conversation {
  return { ...conversation, messages: conversation.messages.slice(0, Math.max(0, index)) };
}

/** The last user message's index and text, for regenerate; undefined when there is none. */
export function lastUserTurn(conversation: Conversation): { index: number; text: string } | undefined {
  for (let index = conversation.messages.length - 1; index >= 0; index -= 1) {
    const message = conversation.messages[index];
    if (message?.role === "user") return { index, text: message.content };
  }
  return undefined;
}

/** The body of POST /v1/chat/completions for the conversation as it stands (the answer slot excluded). */
export function chatRequestBody(conversation: Conversation): Record<string, unknown> {
  const { parameters } = conversation;
  const history = conversation.messages
    .filter((message) => message.state !== "streaming" && (message.role === "user" || message.content !== ""))
    .map((message) => ({ role: message.role, content: message.content }));
  const system = conversation.system.trim();
  return {
    model: conversation.model,
    stream: true,
    stream_options: { include_usage: true },
    messages: system === "" ? history : [{ role: "system", content: system }, ...history],
    temperature: parameters.temperature,
    top_p: parameters.topP,
    top_k: parameters.topK,
    max_tokens: parameters.maxTokens,
    priority: parameters.priority,
    ...(parameters.seed === undefined ? {} : { seed: parameters.seed }),
    ...(parameters.jsonMode ? { response_format: { type: "json_object" } } : {}),
  };
}

/** Measures one answer from the browser's side: call with monotonic readings (performance.now()). */
export class FiguresMeter {
  readonly #startedAt: number;
  #firstTokenAt: number | undefined;
  #usage: { promptTokens: number; completionTokens: number; cachedTokens: number } | undefined;
  #deltas = 0;

  constructor(startedAt: number) {
    this.#startedAt = startedAt;
  }

  onDelta(now: number, delta: string): void {
    if (delta === "") return;
    this.#firstTokenAt ??= now;
    this.#deltas += 1;
  }

  onUsage(usage: { promptTokens: number; completionTokens: number; cachedTokens: number }): void {
    this.#usage = usage;
  }

  figures(now: number): AnswerFigures {
    const generated = this.#usage?.completionTokens ?? this.#deltas;
    const decodeMs = this.#firstTokenAt === undefined ? 0 : now - this.#firstTokenAt;
    return {
      timeToFirstTokenMs: this.#firstTokenAt === undefined ? undefined : this.#firstTokenAt - this.#startedAt,
      // Tokens after the first over the time after the first: the decode rate.
      tokensPerSecond: generated > 1 && decodeMs > 0 ? ((generated - 1) * 1000) / decodeMs : undefined,
      promptTokens: this.#usage?.promptTokens,
      cachedTokens: this.#usage?.cachedTokens,
      completionTokens: this.#usage?.completionTokens ?? (this.#deltas === 0 ? undefined : this.#deltas),
      totalMs: now - this.#startedAt,
    };
  }
}
