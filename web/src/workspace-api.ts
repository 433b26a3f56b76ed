/**
 * The Workspace panel's calls: the file routes (/v1/workspace/*, admin-only), fill-in-the-middle
 * (/infill, one request group per editor so a newer keystroke cancels the older completion on the
 * server too), "explain" (streamed chat) and "edit with an instruction" (one chat answer).
 */
import { ApiError, errorMessageOf, type Api } from "./api.js";
import { parseChatChunk, SseReader } from "./sse.js";

export interface TreeEntry {
  path: string;
  type: "file" | "folder";
  size_bytes?: number;
}

export interface FileVersion {
  sha256: string;
  size_bytes: number;
  mtime_ms: number;
}

export interface OpenedFile {
  path: string;
  content: string;
  version: FileVersion;
}

export interface ModelChoice {
  name: string;
  /** The model's GGUF names fill-in-the-middle tokens (Ollama's `insert` capability). */
  canInsert: boolean;
}

export type SaveResult = { kind: "saved"; version: FileVersion } | { kind: "conflict"; message: string };

export class WorkspaceApi {
  constructor(
    readonly api: Api,
    /** X-Request-Group of this editor's completions. */
    readonly requestGroup: string,
  ) {}

  info(): Promise<{ enabled: boolean; name?: string; message?: string; max_file_bytes?: number }> {
    return this.api.get("/v1/workspace");
  }

  /** The installed models, each with whether it can complete at a cursor. */
  async models(): Promise<ModelChoice[]> {
    const list = await this.api.get<{ data: { id: string }[] }>("/v1/models");
    return Promise.all(
      list.data.map(async (entry) => {
        const shown = await this.api
          .post<{ capabilities?: string[] }>("/api/show", { model: entry.id })
          .catch((): { capabilities?: string[] } => ({}));
        return { name: entry.id, canInsert: shown.capabilities?.includes("insert") === true };
      }),
    );
  }

  async tree(): Promise<{ entries: TreeEntry[]; truncated: boolean }> {
    return this.api.get("/v1/workspace/tree");
  }

  open(path: string): Promise<OpenedFile> {
    return this.api.get(`/v1/workspace/file?path=${encodeURIComponent(path)}`);
  }

  async save(path: string, content: string, baseSha256: string | null): Promise<SaveResult> {
    try {
      const response = await this.api.request("/v1/workspace/file", {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ path, content, base_sha256: baseSha256 }),
      });
      return { kind: "saved", version: ((await response.json()) as { version: FileVersion }).version };
    } catch (error) {
      if (error instanceof ApiError && error.status === 409)
        return { kind: "conflict", message: error.message };
      throw error;
    }
  }

  /** The model's text between `prefix` and `suffix`; rejects with an AbortError when `signal` aborts. */
  async complete(
    fim: { model: string; prefix: string; suffix: string; maxTokens: number },
    signal: AbortSignal,
  ): Promise<string> {
    const response = await this.api.request("/infill", {
      method: "POST",
      signal,
      headers: { "Content-Type": "application/json", "X-Request-Group": this.requestGroup },
      body: JSON.stringify({
        model: fim.model,
        input_prefix: fim.prefix,
        input_suffix: fim.suffix,
        n_predict: fim.maxTokens,
        temperature: 0,
        stream: false,
        priority: "high",
      }),
    });
    return ((await response.json()) as { content?: string }).content ?? "";
  }

  /** Streams a chat answer, calling `onText` with each piece; resolves with the whole text. */
  async chat(
    request: { model: string; system: string; user: string },
    options: { signal: AbortSignal; onText?: (text: string) => void },
  ): Promise<string> {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      signal: options.signal,
      headers: this.api.headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({
        model: request.model,
        stream: true,
        temperature: 0.2,
        messages: [
          { role: "system", content: request.system },
          { role: "user", content: request.user },
        ],
      }),
    });
    if (!response.ok || response.body === null)
      throw new ApiError(response.status, await errorMessageOf(response));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const sse = new SseReader();
    let text = "";
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      for (const data of sse.push(read.value)) {
        const chunk = parseChatChunk(data);
        if (chunk === undefined) continue;
        if (chunk.error !== undefined) throw new Error(chunk.error);
        if (chunk.delta === "") continue;
        text += chunk.delta;
        options.onText?.(text);
      }
    }
    return text;
  }
}

/** The code of an answer: the first fenced block when there is one, else the whole text. */
export function codeOfAnswer(answer: string): string {
  const fenced = /```[^\n]*\n([\s\S]*?)```/.exec(answer);
  return fenced === null ? answer.trim() : fenced[1]!.replace(/\n$/, "");
}

export const explainSystemPrompt =
  "You are a careful senior engineer. Explain what the given code does, briefly and precisely.";
export const editSystemPrompt =
  "You edit code. Apply the instruction to the given code and answer with the complete new code only, in one fenced code block, nothing else.";

export function explainPrompt(path: string, selection: string): string {
  return `Explain this code from ${path}:\n\n\`\`\`\n${selection}\n\`\`\``;
}

export function editPrompt(path: string, selection: string, instruction: string): string {
  return `Instruction: ${instruction}\n\nCode from ${path}:\n\n\`\`\`\n${selection}\n\`\`\``;
}
