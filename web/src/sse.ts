/** Server-sent events, read incrementally: feed text chunks, get the `data:` payloads of complete events. */
export class SseReader {
  #buffer = "";

  /** Adds received text; returns the data of every event it completed, in order. */
  push(chunk: string): string[] {
    this.#buffer += chunk.replace(/\r\n?/g, "\n");
    const events: string[] = [];
    let end = this.#buffer.indexOf("\n\n");
    while (end !== -1) {
      const frame = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""));
      if (data.length > 0) events.push(data.join("\n"));
      end = this.#buffer.indexOf("\n\n");
    }
    return events;
  }
}

/** One OpenAI chat-completion stream chunk, as far as the shell reads it. */
export interface ChatChunk {
  delta: string;
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number } | undefined;
  error: string | undefined;
}

interface WireChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: {
    prompt_tokens: number;
    completion_tokens: number;
    prompt_tokens_details?: { cached_tokens?: number };
  } | null;
  error?: { message?: string };
}

/** Parses one `data:` payload of /v1/chat/completions; undefined for `[DONE]`. */
export function parseChatChunk(data: string): ChatChunk | undefined {
  if (data.trim() === "[DONE]") return undefined;
  const wire = JSON.parse(data) as WireChunk;
  const choice = wire.choices?.[0];
  return {
    delta: choice?.delta?.content ?? "",
    finishReason: choice?.finish_reason ?? null,
    usage:
      wire.usage === undefined || wire.usage === null
        ? undefined
        : {
            promptTokens: wire.usage.prompt_tokens,
            completionTokens: wire.usage.completion_tokens,
            cachedTokens: wire.usage.prompt_tokens_details?.cached_tokens ?? 0,
          },
    error: wire.error?.message,
  };
}
