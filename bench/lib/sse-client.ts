/**
 * A minimal streaming client for POST /v1/completions or /v1/chat/completions over node:http
 * (keep-alive, no fetch machinery), timestamping every SSE chunk as it arrives.
 */
import { Agent, request as httpRequest } from "node:http";
import { systemTime } from "../../src/core/index.js";

export interface StreamedCompletion {
  /** systemTime.monotonicNow() when the request body was handed to the socket. */
  sentAt: number;
  firstContentAt: number | undefined;
  lastContentAt: number | undefined;
  endedAt: number;
  contentChunks: number;
  /** Socket reads that brought stream data: about one per server write when the client keeps up. */
  dataChunks: number;
  text: string;
  usage:
    | { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } }
    | undefined;
  /** llama-server's `timings` of the last chunk (draft_n and draft_n_accepted with speculation); undefined from RawrXD. */
  timings?: Record<string, number> | undefined;
}

interface CompletionChunk {
  /** `text` on /v1/completions, `delta.content` on /v1/chat/completions. */
  choices?: { text?: string; delta?: { content?: string } }[];
  usage?: StreamedCompletion["usage"] | null;
  timings?: Record<string, number>;
  error?: unknown;
}

export class CompletionStreamClient {
  readonly #agent: Agent;
  readonly #url: URL;

  /**
   * `keepAlive: false` opens a connection per request: llama-server closes a keep-alive
   * connection after a streamed response, so a reused socket answers "socket hang up".
   */
  constructor(
    baseUrl: string,
    path: "/v1/completions" | "/v1/chat/completions" = "/v1/completions",
    options: { keepAlive?: boolean } = {},
  ) {
    this.#url = new URL(path, baseUrl);
    this.#agent = new Agent({ keepAlive: options.keepAlive ?? true, maxSockets: 1 });
  }

  stream(
    body: Record<string, unknown>,
    extraHeaders: Record<string, string> = {},
  ): Promise<StreamedCompletion> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const result: StreamedCompletion = {
        sentAt: Number.NaN,
        firstContentAt: undefined,
        lastContentAt: undefined,
        endedAt: Number.NaN,
        contentChunks: 0,
        dataChunks: 0,
        text: "",
        usage: undefined,
      };
      const request = httpRequest(this.#url, {
        method: "POST",
        agent: this.#agent,
        headers: {
          ...extraHeaders,
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(payload),
          Accept: "text/event-stream",
        },
      });
      request.on("error", reject);
      request.on("response", (response) => {
        response.setEncoding("utf8");
        let buffered = "";
        response.on("data", (chunk: string) => {
          const now = systemTime.monotonicNow();
          result.dataChunks += 1;
          buffered += chunk;
          let boundary = buffered.indexOf("\n\n");
          while (boundary >= 0) {
            const event = buffered.slice(0, boundary);
            buffered = buffered.slice(boundary + 2);
            if (response.statusCode === 200) this.#onEvent(event, now, result);
            boundary = buffered.indexOf("\n\n");
          }
        });
        response.on("error", reject);
        response.on("end", () => {
          result.endedAt = systemTime.monotonicNow();
          if (response.statusCode !== 200) {
            reject(
              new Error(`POST ${this.#url.href} answered ${response.statusCode}: ${buffered.slice(0, 500)}`),
            );
          } else {
            resolve(result);
          }
        });
      });
      result.sentAt = systemTime.monotonicNow();
      request.end(payload);
    });
  }

  #onEvent(event: string, now: number, result: StreamedCompletion): void {
    for (const line of event.split("\n")) {
      if (!line.startsWith("data: ")) continue; // SSE comments (": ping") and other fields
      const data = line.slice("data: ".length);
      if (data === "[DONE]") continue;
      const chunk = JSON.parse(data) as CompletionChunk;
      if (chunk.error !== undefined) throw new Error(`The stream reported an error: ${data}`);
      const choice = chunk.choices?.[0];
      const text = choice?.text ?? choice?.delta?.content ?? "";
      if (text.length > 0) {
        result.firstContentAt ??= now;
        result.lastContentAt = now;
        result.contentChunks += 1;
        result.text += text;
      }
      if (chunk.usage) result.usage = chunk.usage;
      if (chunk.timings) result.timings = chunk.timings;
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}
