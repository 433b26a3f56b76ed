/**
 * `rawrxd run MODEL` on a terminal: a chat like `ollama run`. Each message goes to POST /api/chat
 * with the session's history and parameters, and the answer streams as it arrives. Ctrl-C stops
 * the answer (the fetch is aborted, so the server sees the disconnect and cancels the
 * generation); at an empty prompt it prints a hint, and a second one exits. Ctrl-D and /bye exit.
 */
import { createInterface, type Interface } from "node:readline";
import { CliError, type OutputStream } from "./cli-io.js";
import {
  chatHelp,
  formatParameterList,
  MultilineInput,
  parseChatInput,
  type ChatCommand,
  type ParameterValue,
} from "./chat-commands.js";
import { readNdjsonLines } from "./ndjson-lines.js";
import { formatGenerationStats } from "./generation-stats.js";
import type { ServerClient } from "./server-client.js";
import { formatShow } from "./show-command.js";
import { chatLine, parseWire, showResponse, type ChatLine } from "./wire-schemas.js";

export interface ChatSessionOptions {
  model: string;
  client: ServerClient;
  /** The terminal: readline reads keys from it in raw mode and echoes to `output`. */
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  errors: OutputStream;
  system?: string | undefined;
  parameters?: Record<string, ParameterValue>;
  isVerbose?: boolean;
}

interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

export const exitHint = "Use Ctrl + d or /bye to exit.";

/** Loads the model (so a wrong name fails before the first prompt), then chats until the user exits. */
export async function runChatSession(options: ChatSessionOptions): Promise<number> {
  await options.client.requestJson("POST", "/api/generate", {
    body: { model: options.model, stream: false },
  });
  return new ChatSession(options).run();
}

class ChatSession {
  readonly #options: ChatSessionOptions;
  readonly #history: Message[] = [];
  readonly #parameters: Record<string, ParameterValue>;
  readonly #multiline = new MultilineInput();
  /** Complete inputs typed while an earlier one is still being answered. */
  readonly #pending: string[] = [];
  #system: string | undefined;
  #rl: Interface | undefined;
  #generation: AbortController | undefined;
  #isBusy = false;
  #interruptsAtEmptyPrompt = 0;
  #finish: ((code: number) => void) | undefined;

  constructor(options: ChatSessionOptions) {
    this.#options = options;
    this.#system = options.system;
    this.#parameters = { ...options.parameters };
  }

  run(): Promise<number> {
    return new Promise<number>((resolve) => {
      const rl = createInterface({
        input: this.#options.input,
        output: this.#options.output,
        terminal: true,
        historySize: 200,
      });
      this.#rl = rl;
      let isFinished = false;
      this.#finish = (code) => {
        if (isFinished) return;
        isFinished = true;
        this.#generation?.abort();
        rl.close();
        resolve(code);
      };
      rl.on("line", (line) => this.#onLine(line));
      rl.on("SIGINT", () => this.#onInterrupt());
      rl.on("close", () => {
        // Ctrl-D: leave the shell prompt on a fresh line.
        if (!isFinished) this.#write("\n");
        this.#finish?.(0);
      });
      this.#prompt();
    });
  }

  #write(text: string): void {
    this.#options.output.write(text);
  }

  #prompt(): void {
    this.#rl?.setPrompt(this.#multiline.isOpen ? "... " : ">>> ");
    this.#rl?.prompt();
  }

  #onLine(line: string): void {
    this.#interruptsAtEmptyPrompt = 0;
    const input = this.#multiline.push(line);
    if (input === undefined) {
      if (!this.#isBusy) this.#prompt();
      return;
    }
    this.#pending.push(input);
    if (!this.#isBusy) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#isBusy = true;
    try {
      for (let input = this.#pending.shift(); input !== undefined; input = this.#pending.shift()) {
        if (!(await this.#handle(parseChatInput(input)))) return;
      }
    } finally {
      this.#isBusy = false;
    }
    this.#prompt();
  }

  #onInterrupt(): void {
    this.#pending.length = 0;
    if (this.#generation !== undefined) {
      this.#generation.abort();
      return;
    }
    // Between answers but still busy (a /show request): the prompt comes back when it is done.
    if (this.#isBusy) return;
    const rl = this.#rl;
    if (this.#multiline.isOpen || (rl !== undefined && rl.line !== "")) {
      // As a shell does: "^C" after the text, then a fresh, empty prompt on the next line.
      this.#multiline.reset();
      this.#interruptsAtEmptyPrompt = 0;
      this.#write("^C\n");
      if (rl === undefined || rl.line === "") {
        this.#prompt();
        return;
      }
      // Empty readline's buffer (Ctrl-E, Ctrl-U); its redraw writes the prompt.
      rl.setPrompt(">>> ");
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
      return;
    }
    this.#interruptsAtEmptyPrompt += 1;
    if (this.#interruptsAtEmptyPrompt >= 2) {
      this.#write("\n");
      this.#finish?.(0);
      return;
    }
    this.#write(`\n${exitHint}\n\n`);
    this.#prompt();
  }

  /** Runs one command; false when the session ends. */
  async #handle(command: ChatCommand): Promise<boolean> {
    switch (command.kind) {
      case "message":
        await this.#answer(command.text);
        return true;
      case "bye":
        this.#finish?.(0);
        return false;
      case "clear":
        this.#history.length = 0;
        this.#write("Cleared session context\n");
        return true;
      case "help":
        this.#write(chatHelp);
        return true;
      case "list-parameters":
        this.#write(formatParameterList());
        return true;
      case "set-parameter":
        this.#parameters[command.name] = command.value;
        this.#write(`Set parameter '${command.name}' to '${formatValue(command.value)}'\n`);
        return true;
      case "set-system":
        this.#system = command.text;
        this.#write("Set system message.\n");
        return true;
      case "show":
        await this.#show(command.what);
        return true;
      case "error":
        this.#write(`${command.message}\n`);
        return true;
      case "empty":
        return true;
    }
  }

  async #show(what: "info" | "parameters" | "system"): Promise<void> {
    if (what === "system") {
      this.#write(this.#system === undefined ? "No system message was specified.\n" : `${this.#system}\n`);
      return;
    }
    if (what === "parameters") {
      const entries = Object.entries(this.#parameters);
      this.#write(
        entries.length === 0
          ? "No parameters were set in this session.\n"
          : "Parameters set in this session:\n" +
              entries.map(([name, value]) => `  ${name.padEnd(16)}${formatValue(value)}\n`).join(""),
      );
      return;
    }
    try {
      const raw = await this.#options.client.requestJson("POST", "/api/show", {
        body: { model: this.#options.model },
      });
      this.#write(formatShow(parseWire(showResponse, raw, "POST /api/show")));
    } catch (error) {
      this.#options.errors.write(`${errorText(error)}\n`);
    }
  }

  async #answer(text: string): Promise<void> {
    this.#history.push({ role: "user", content: text });
    const messages: Message[] = [
      ...(this.#system === undefined ? [] : [{ role: "system" as const, content: this.#system }]),
      ...this.#history,
    ];
    const body = {
      model: this.#options.model,
      messages,
      stream: true,
      ...(Object.keys(this.#parameters).length > 0 ? { options: { ...this.#parameters } } : {}),
    };
    const abort = new AbortController();
    this.#generation = abort;
    let answer = "";
    try {
      const response = await this.#options.client.request("POST", "/api/chat", {
        body,
        signal: abort.signal,
      });
      if (response.body === null) throw new CliError("The server sent an empty reply.");
      for await (const line of readNdjsonLines(response.body)) {
        const chunk = parseChatLine(line);
        if (chunk.error !== undefined) throw new CliError(`Error: ${chunk.error}`);
        const content = chunk.message?.content ?? "";
        if (content !== "") {
          this.#write(content);
          answer += content;
        }
        if (chunk.done === true) {
          this.#write(answer.endsWith("\n") ? "\n" : "\n\n");
          if (this.#options.isVerbose === true)
            this.#options.errors.write(formatGenerationStats(chunk) + "\n");
          this.#history.push({ role: "assistant", content: answer });
          return;
        }
      }
      throw new CliError("Error: the server ended the stream before the answer was done.");
    } catch (error) {
      // An unanswered message leaves the history, so the next one does not follow two user turns.
      this.#history.pop();
      if (answer !== "" && !answer.endsWith("\n")) this.#write("\n");
      if (!abort.signal.aborted) this.#options.errors.write(`${errorText(error)}\n`);
      this.#write("\n");
    } finally {
      this.#generation = undefined;
    }
  }
}

function formatValue(value: ParameterValue): string {
  return Array.isArray(value) ? value.join(" ") : String(value);
}

function errorText(error: unknown): string {
  return error instanceof CliError ? error.message : `Error: ${String(error)}`;
}

function parseChatLine(line: string): ChatLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new CliError(`Error: the server sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  return parseWire(chatLine, value, "POST /api/chat");
}
