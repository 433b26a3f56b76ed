/**
 * `rawrxd run MODEL [PROMPT]`: POST /api/generate with stream: true; each NDJSON line's
 * `response` goes to stdout as it arrives. Ctrl-C aborts the request, which makes the
 * server cancel the generation. Without PROMPT on a terminal: the chat of chat-session.ts.
 */
import { runChatSession } from "./chat-session.js";
import { CliError, defaultOnInterrupt, usageError, type CliIo, type Command } from "./cli-io.js";
import { formatGenerationStats } from "./generation-stats.js";
import { runUsage } from "./help-text.js";
import { readAllText, readNdjsonLines } from "./ndjson-lines.js";
import {
  clientSettingKeys,
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
  type FlagValues,
} from "./parse-command-args.js";
import { createServerClient } from "./server-client.js";
import { generateLine, parseWireLine } from "./wire-schemas.js";

export const runCommand: Command = {
  name: "run",
  usage: () => runUsage,
  async run(args, context) {
    const { io } = context;
    const { values, positionals } = parseCommandArgs("run", args, {
      flags: {
        ...settingsFlagOptions(clientSettingKeys),
        system: { type: "string" },
        temperature: { type: "string" },
        "max-tokens": { type: "string" },
        seed: { type: "string" },
        raw: { type: "boolean" },
        verbose: { type: "boolean" },
      },
      minPositionals: 1,
      maxPositionals: 2,
    });
    const options = generationOptions(values);
    const config = configFromFlags("run", values, { keys: clientSettingKeys, io });
    let prompt = positionals[1];
    if (prompt === undefined) {
      if (io.stdin.isTTY === true) {
        const terminal = terminalOf(io);
        if (terminal === undefined || values["raw"] === true) {
          throw usageError("run", "Missing PROMPT: pass it as an argument or pipe it on standard input.");
        }
        return runChatSession({
          model: positionals[0]!,
          client: createServerClient(config, io.env),
          ...terminal,
          errors: io.stderr,
          system: typeof values["system"] === "string" ? values["system"] : undefined,
          parameters: options,
          isVerbose: values["verbose"] === true,
        });
      }
      prompt = (await readAllText(io.stdin)).replace(/\r?\n$/, "");
    }
    const body = {
      model: positionals[0],
      prompt,
      ...(typeof values["system"] === "string" ? { system: values["system"] } : {}),
      ...(values["raw"] === true ? { raw: true } : {}),
      stream: true,
      ...(Object.keys(options).length > 0 ? { options } : {}),
    };

    const client = createServerClient(config, io.env);
    const abort = new AbortController();
    const removeInterrupt = (context.dependencies.onInterrupt ?? defaultOnInterrupt)(() => abort.abort());
    let lastText = "";
    try {
      const response = await client.request("POST", "/api/generate", { body, signal: abort.signal });
      if (response.body === null) throw new CliError(`The server at ${client.baseUrl} sent an empty reply.`);
      for await (const line of readNdjsonLines(response.body)) {
        const chunk = parseWireLine(generateLine, line, "POST /api/generate");
        if (chunk.error !== undefined) throw new CliError(`Error: ${chunk.error}`);
        if (chunk.response !== undefined && chunk.response !== "") {
          io.stdout.write(chunk.response);
          lastText = chunk.response;
        }
        if (chunk.done === true) {
          if (!lastText.endsWith("\n")) io.stdout.write("\n");
          if (values["verbose"] === true) io.stderr.write(formatGenerationStats(chunk));
          return 0;
        }
      }
      throw new CliError("Error: the server ended the stream before the generation was done.");
    } catch (error) {
      // Leave the terminal on a fresh line before the error or the shell prompt.
      if (lastText !== "" && !lastText.endsWith("\n")) io.stdout.write("\n");
      if (!abort.signal.aborted) throw error;
      return 130;
    } finally {
      removeInterrupt();
    }
  },
};

/** Standard input and output as streams readline can drive: a real terminal, not a test double. */
function terminalOf(io: CliIo): { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } | undefined {
  const isStream = (value: unknown, method: string) =>
    typeof (value as Record<string, unknown>)[method] === "function";
  if (!isStream(io.stdin, "on") || !isStream(io.stdin, "resume") || !isStream(io.stdout, "on"))
    return undefined;
  return {
    input: io.stdin as unknown as NodeJS.ReadableStream,
    output: io.stdout as unknown as NodeJS.WritableStream,
  };
}

interface NumericFlag {
  flag: string;
  key: string;
  isValid: (value: number) => boolean;
  expected: string;
}

const numericFlags: readonly NumericFlag[] = [
  {
    flag: "temperature",
    key: "temperature",
    isValid: (value) => value >= 0,
    expected: "a number of 0 or more",
  },
  {
    flag: "max-tokens",
    key: "num_predict",
    isValid: (value) => Number.isInteger(value) && value >= 1,
    expected: "a whole number of 1 or more",
  },
  { flag: "seed", key: "seed", isValid: (value) => Number.isSafeInteger(value), expected: "a whole number" },
];

/** The Ollama `options` object from --temperature, --max-tokens and --seed. */
function generationOptions(values: FlagValues): Record<string, number> {
  const options: Record<string, number> = {};
  for (const { flag, key, isValid, expected } of numericFlags) {
    const raw = values[flag];
    if (typeof raw !== "string") continue;
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || !isValid(value)) {
      throw usageError("run", `--${flag} expects ${expected}, got "${raw}".`);
    }
    options[key] = value;
  }
  return options;
}
