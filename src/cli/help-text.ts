/** Usage texts. `serve` lists every setting from the settings table (describeSettings). */
import { describeSettings } from "../config/index.js";

export const topLevelUsage = `Usage: rawrxd <command> [options]

Commands:
  serve                 Start the server (OpenAI- and Ollama-compatible HTTP API)
  run MODEL [PROMPT]    Generate a reply on the running server (a chat without PROMPT)
  ls                    List the models the server can load
  ps                    List the models loaded now
  show MODEL            Show a model's architecture, size and context
  pull SOURCE           Download a GGUF model into the models folder (no server needed)
  gpu                   Show the compute backend, every candidate with its reason, and per-model plans
  metrics               Show request statistics, or export them (metrics export --format csv)
  keys                  Create, list and revoke API keys (no server needed)
  audit verify|query    Verify the audit log with its public key, or query it (no server needed)
  sla                   SLA status, monthly reports, maintenance windows (no server needed)
  backup create|list|verify|restore|prune
                        Back up the data folder, check backups, restore one (no server needed)
  help [COMMAND]        Show help for a command

Options:
  -h, --help            Show help
  -v, --version         Show the version

Run "rawrxd <command> --help" for a command's options.
`;

export const connectionOptions = `Connection:
  --host HOST           Server address (env RAWRXD_HOST, default 127.0.0.1)
  --port PORT           Server port (env RAWRXD_PORT, default 11435)
  --home DIR            Data directory, read for config.json (env RAWRXD_HOME, default ~/.rawrxd)
  --models DIR          Models folder (env RAWRXD_MODELS, default $RAWRXD_HOME/models)

Environment:
  RAWRXD_URL            Server base URL; overrides --host and --port
  RAWRXD_API_KEY        Sent as "Authorization: Bearer KEY"`;

export function serveUsage(): string {
  return `Usage: rawrxd serve [options]

Start the RawrXD server. It runs until SIGINT (Ctrl-C) or SIGTERM.

Options (flag, environment variable, default):
${describeSettings("help")}
  -h, --help            Show this help
`;
}

export const runUsage = `Usage: rawrxd run MODEL [PROMPT] [options]

Generate a reply from MODEL on the running server and print it as it streams.
Without PROMPT on a terminal: an interactive chat (/? lists its commands, """ starts
a message of several lines, Ctrl-C stops an answer, Ctrl-D or /bye exits).
Without PROMPT and with standard input piped: the prompt is read from it.
Ctrl-C stops the generation.

Options:
  --system TEXT         System prompt
  --temperature N       Sampling temperature (0 = greedy)
  --max-tokens N        Most tokens to generate (num_predict)
  --seed N              Sampling seed, for repeatable output
  --raw                 Send the prompt as is, without the chat template
  --verbose             Print token counts and speed to stderr at the end
  -h, --help            Show this help

${connectionOptions}
`;

export const listUsage = `Usage: rawrxd ls [options]

List the models in the server's models folder: name, size, quantization, last change.

${connectionOptions}
`;

export const psUsage = `Usage: rawrxd ps [options]

List the models loaded now (memory, context, sequences in use, queued requests, when they
unload), then the queue per model and priority.

${connectionOptions}
`;

export const showUsage = `Usage: rawrxd show MODEL [options]

Show a model's architecture, parameter count, context and embedding length, quantization
and whether it has a chat template.

Options:
  --json                Print the server's raw JSON response
  -h, --help            Show this help

${connectionOptions}
`;

export const pullUsage = `Usage: rawrxd pull SOURCE [options]

Download a GGUF model into the models folder. SOURCE is an http(s)://…/file.gguf URL
(optionally ending in #sha256=HEX) or hf:owner/repo/path/file.gguf[#revision].
An interrupted pull resumes where it stopped when run again.

Options:
  --name NAME           Model name (default: the file name without .gguf)
  --sha256 HEX          SHA-256 the file must have
  --force               Replace an existing model of the same name
  --home DIR            Data directory (env RAWRXD_HOME, default ~/.rawrxd)
  --models DIR          Models folder (env RAWRXD_MODELS, default $RAWRXD_HOME/models)
  -h, --help            Show this help

Environment:
  HF_ENDPOINT           Hugging Face base URL for hf: sources (default https://huggingface.co)
  HF_TOKEN              Hugging Face access token for private or gated repositories
`;

export const helpUsage = `Usage: rawrxd help [COMMAND]

Show help for a command, or the list of commands.
`;
