/** One streamed POST /api/chat answer of the interactive chat: its text goes out as it arrives. */
import { CliError } from "./cli-io.js";
import { readNdjsonLines } from "./ndjson-lines.js";
import type { ServerClient } from "./server-client.js";
import { chatLine, parseWireLine, type ChatLine } from "./wire-schemas.js";

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  options?: Record<string, unknown>;
}

/**
 * Streams the answer, passing each piece of text to `onText`; resolves to the final line (done,
 * with the counts). Throws CliError on an error line, a broken stream or an HTTP error, and the
 * fetch's AbortError when `signal` aborts (the server sees the disconnect and cancels).
 */
export async function streamChatAnswer(
  client: ServerClient,
  body: ChatRequestBody,
  options: { signal: AbortSignal; onText: (text: string) => void },
): Promise<ChatLine> {
  const response = await client.request("POST", "/api/chat", {
    body: { ...body, stream: true },
    signal: options.signal,
  });
  if (response.body === null) throw new CliError("Error: the server sent an empty reply.");
  for await (const line of readNdjsonLines(response.body)) {
    const chunk = parseWireLine(chatLine, line, "POST /api/chat");
    if (chunk.error !== undefined) throw new CliError(`Error: ${chunk.error}`);
    const content = chunk.message?.content ?? "";
    if (content !== "") options.onText(content);
    if (chunk.done === true) return chunk;
  }
  throw new CliError("Error: the server ended the stream before the answer was done.");
}
