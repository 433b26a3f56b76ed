/**
 * The interactive chat's input language, as `ollama run` has it: `/bye`, `/clear`, `/?`,
 * `/set parameter NAME VALUE`, `/set system TEXT`, `/show …`, and `"""` … `"""` for a message of
 * several lines. Pure: chat-session.ts does the terminal and the server.
 */

export type ParameterValue = number | string[];

interface ParameterSpec {
  name: string;
  description: string;
  parse(words: readonly string[]): ParameterValue | string;
}

interface NumberRule {
  isValid: (value: number) => boolean;
  expected: string;
}

function numberParameter(name: string, description: string, rule: NumberRule): ParameterSpec {
  return {
    name,
    description,
    parse(words) {
      const raw = words.join(" ");
      const value = Number(raw);
      if (words.length !== 1 || raw.trim() === "" || !Number.isFinite(value) || !rule.isValid(value)) {
        return `${name} expects ${rule.expected}, got "${raw}".`;
      }
      return value;
    },
  };
}

const isWhole = (value: number) => Number.isSafeInteger(value);

/** The parameters `/set parameter` knows, with the server's ranges (src/api/ollama/schema.ts). */
export const chatParameters: readonly ParameterSpec[] = [
  numberParameter("temperature", "Sampling temperature, 0 = greedy", {
    isValid: (v) => v >= 0 && v <= 2,
    expected: "a number from 0 to 2",
  }),
  numberParameter("top_p", "Nucleus sampling: keep the most likely tokens up to this total", {
    isValid: (v) => v >= 0 && v <= 1,
    expected: "a number from 0 to 1",
  }),
  numberParameter("top_k", "Keep only the K most likely tokens", {
    isValid: (v) => isWhole(v) && v >= 0,
    expected: "a whole number of 0 or more",
  }),
  numberParameter("min_p", "Drop tokens less likely than this fraction of the best", {
    isValid: (v) => v >= 0 && v <= 1,
    expected: "a number from 0 to 1",
  }),
  numberParameter("seed", "Sampling seed, for repeatable answers", {
    isValid: isWhole,
    expected: "a whole number",
  }),
  numberParameter("num_ctx", "Context tokens (capped by the server's --context-size)", {
    isValid: (v) => isWhole(v) && v >= 1,
    expected: "a whole number of 1 or more",
  }),
  numberParameter("num_predict", "Most tokens per answer (-1 = until the context is full)", {
    isValid: (v) => isWhole(v) && (v >= 1 || v === -1 || v === -2),
    expected: "-1, -2 or a whole number of 1 or more",
  }),
  numberParameter("repeat_penalty", "Penalty for repeated tokens", {
    isValid: (v) => v >= 0 && v <= 10,
    expected: "a number from 0 to 10",
  }),
  numberParameter("repeat_last_n", "How far back repeats are penalised (-1 = the whole context)", {
    isValid: (v) => isWhole(v) && v >= -1 && v <= 4096,
    expected: "a whole number from -1 to 4096",
  }),
  {
    name: "stop",
    description: "Stop sequences: /set parameter stop <string> <string> …",
    parse: (words) => (words.length === 0 ? "stop expects at least one string." : [...words]),
  },
];

export type ChatCommand =
  | { kind: "message"; text: string }
  | { kind: "bye" }
  | { kind: "clear" }
  | { kind: "help" }
  | { kind: "set-parameter"; name: string; value: ParameterValue }
  | { kind: "list-parameters" }
  | { kind: "set-system"; text: string }
  | { kind: "show"; what: "info" | "parameters" | "system" }
  | { kind: "empty" }
  | { kind: "error"; message: string };

/** One complete input (after `"""` joining) as a command or a message. */
export function parseChatInput(input: string): ChatCommand {
  if (!input.startsWith("/"))
    return input.trim() === "" ? { kind: "empty" } : { kind: "message", text: input };
  const words = input.trim().split(/\s+/);
  const [command = "", ...rest] = words;
  switch (command) {
    case "/bye":
    case "/exit":
      return { kind: "bye" };
    case "/clear":
      return { kind: "clear" };
    case "/?":
    case "/help":
      return { kind: "help" };
    case "/set":
      return parseSet(input, rest);
    case "/show":
      return parseShow(rest);
    default:
      return { kind: "error", message: `Unknown command '${command}'. Type /? for help.` };
  }
}

function parseSet(input: string, words: readonly string[]): ChatCommand {
  const [what, name, ...values] = words;
  if (what === "system") {
    const text = input.replace(/^\s*\/set\s+system\s?/, "");
    return text.trim() === ""
      ? { kind: "error", message: "Usage: /set system <text>" }
      : { kind: "set-system", text };
  }
  if (what !== "parameter") {
    return { kind: "error", message: "Usage: /set parameter <name> <value>, or /set system <text>." };
  }
  if (name === undefined) return { kind: "list-parameters" };
  const spec = chatParameters.find((candidate) => candidate.name === name);
  if (spec === undefined) {
    return {
      kind: "error",
      message: `Unknown parameter '${name}'. Known: ${chatParameters.map((p) => p.name).join(", ")}.`,
    };
  }
  const value = spec.parse(values);
  return typeof value === "string"
    ? { kind: "error", message: value }
    : { kind: "set-parameter", name, value };
}

function parseShow(words: readonly string[]): ChatCommand {
  const what = words[0] ?? "info";
  if (what === "info" || what === "parameters" || what === "system") return { kind: "show", what };
  return {
    kind: "error",
    message: `Unknown /show '${what}'. Use /show info, /show parameters or /show system.`,
  };
}

export const chatHelp = `Available commands:
  /set parameter NAME VALUE   Set a sampling parameter (/set parameter lists them)
  /set system TEXT            Set the system message
  /show info                  Show the model's details
  /show parameters            Show the parameters set in this session
  /show system                Show the system message
  /clear                      Forget the conversation so far
  /bye                        Exit
  /?, /help                   Show this help

Use """ to begin and end a message of several lines.
Ctrl-C stops an answer; Ctrl-D or /bye exits.
`;

export function formatParameterList(): string {
  const width = Math.max(...chatParameters.map((p) => p.name.length)) + 2;
  return (
    "Available parameters:\n" +
    chatParameters.map((p) => `  /set parameter ${p.name.padEnd(width)}${p.description}`).join("\n") +
    "\n"
  );
}

/** Joins `"""` … `"""` lines into one input; other lines pass through as they are. */
export class MultilineInput {
  #lines: string[] | undefined;

  get isOpen(): boolean {
    return this.#lines !== undefined;
  }

  /** Feeds one typed line; returns the complete input, or undefined while a `"""` block is open. */
  push(line: string): string | undefined {
    if (this.#lines === undefined) {
      if (!line.startsWith('"""')) return line;
      const rest = line.slice(3);
      if (rest.endsWith('"""')) return rest.slice(0, -3);
      this.#lines = rest === "" ? [] : [rest];
      return undefined;
    }
    if (!line.endsWith('"""')) {
      this.#lines.push(line);
      return undefined;
    }
    const lines = [...this.#lines, line.slice(0, -3)];
    this.#lines = undefined;
    if (lines.at(-1) === "") lines.pop();
    return lines.join("\n");
  }

  reset(): void {
    this.#lines = undefined;
  }
}
