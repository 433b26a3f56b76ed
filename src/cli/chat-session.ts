/**
 * `rawrxd run MODEL` on a terminal: a chat like `ollama run`. Each message goes to POST /api/chat
 * with the session's history and parameters, and the answer streams as it arrives. Ctrl-C stops
 * the answer (the fetch is aborted, so the server sees the disconnect and cancels the
 * generation); at an empty prompt it prints a hint, and a second one exits. Ctrl-D and /bye exit.
 */
import { createInterface, type Interface } from "node:readline";
import { streamChatAnswer } from "./chat-answer.js";
import { formatValue, showText } from "./chat-show.js";
import { CliError, type OutputStream } from "./cli-io.js";
import {
  chatHelp,
  formatParameterList,
  MultilineInput,
  parseChatInput,
  type ChatCommand,
  type ParameterValue,
} from "./chat-commands.js";
import { formatGenerationStats } from "./generation-stats.js";
import type { ServerClient } from "./server-client.js";

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
    try {
      this.#write(
        await showText(what, {
          client: this.#options.client,
          model: this.#options.model,
          system: this.#system,
          parameters: this.#parameters,
        }),
      );
    } catch (error) {
      this.#options.errors.write(`${errorText(error)}\n`);
    }
  }

  async #answer(text: string): Promise<void> {
    this.#history.push({ role: "user", content: text });
    const system = this.#system === undefined ? [] : [{ role: "system" as const, content: this.#system }];
    const body = {
      model: this.#options.model,
      messages: [...system, ...this.#history],
      ...(Object.keys(this.#parameters).length > 0 ? { options: { ...this.#parameters } } : {}),
    };
    const abort = new AbortController();
    this.#generation = abort;
    let answer = "";
    try {
      const final = await streamChatAnswer(this.#options.client, body, {
        signal: abort.signal,
        onText: (piece) => {
          this.#write(piece);
          answer += piece;
        },
      });
      this.#write(answer.endsWith("\n") ? "\n" : "\n\n");
      if (this.#options.isVerbose === true) this.#options.errors.write(formatGenerationStats(final) + "\n");
      this.#history.push({ role: "assistant", content: answer });
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

function errorText(error: unknown): string {
  return error instanceof CliError ? error.message : `Error: ${String(error)}`;
}
