/**
 * The `rawrxd` command line: `serve` boots src/app; `run`, `ls`, `ps` and `show` are clients
 * of the HTTP API; `pull` downloads into the models folder locally.
 */
import { readFile } from "node:fs/promises";
import { nearestName } from "../config/index.js";
import { AppError } from "../core/index.js";
import { auditCommand } from "./audit-command.js";
import { backupCommand } from "./backup-command.js";
import { CliError, processIo, usageError, type CliDependencies, type CliIo, type Command } from "./cli-io.js";
import { helpUsage, topLevelUsage } from "./help-text.js";
import { gpuCommand } from "./gpu-command.js";
import { keysCommand } from "./keys-command.js";
import { listCommand, psCommand } from "./list-commands.js";
import { metricsCommand } from "./metrics-command.js";
import { pullCommand } from "./pull-command.js";
import { runCommand } from "./run-command.js";
import { serveCommand } from "./serve-command.js";
import { showCommand } from "./show-command.js";
import { slaCommand } from "./sla-command.js";
import { wantsHelp } from "./parse-command-args.js";

export type {
  CliIo,
  CliDependencies,
  OutputStream,
  InputStream,
  AppModule,
  RunningServer,
} from "./cli-io.js";
export { formatRelativeTime, formatTable, formatUntil } from "./format.js";
export { serverBaseUrl } from "./server-client.js";

const commands: ReadonlyMap<string, Command> = new Map(
  [
    serveCommand,
    runCommand,
    listCommand,
    psCommand,
    showCommand,
    pullCommand,
    metricsCommand,
    gpuCommand,
    keysCommand,
    auditCommand,
    slaCommand,
    backupCommand,
  ].map((command) => [command.name, command]),
);

/** Runs one command line; returns the exit code (0 ok, 1 failure, 2 usage, 130 interrupted). */
export async function main(
  argv: string[],
  io: CliIo = processIo(),
  dependencies: CliDependencies = {},
): Promise<number> {
  try {
    return await dispatch(argv, { io, dependencies });
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(error.message + "\n");
      return error.exitCode;
    }
    if (error instanceof AppError) {
      io.stderr.write(`Error: ${error.message}\n`);
      return 1;
    }
    // The stack helps a bug report, but only when asked for (RAWRXD_LOG_LEVEL=debug).
    const showStack = io.env["RAWRXD_LOG_LEVEL"] === "debug";
    const detail =
      error instanceof Error ? (showStack ? (error.stack ?? error.message) : error.message) : String(error);
    io.stderr.write(`Error: ${detail}\n`);
    return 1;
  }
}

async function dispatch(
  argv: string[],
  context: { io: CliIo; dependencies: CliDependencies },
): Promise<number> {
  const [commandName, ...args] = argv;
  const { io } = context;
  if (commandName === undefined) {
    io.stderr.write(topLevelUsage);
    return 2;
  }
  if (commandName === "--help" || commandName === "-h") {
    io.stdout.write(topLevelUsage);
    return 0;
  }
  if (commandName === "--version" || commandName === "-v") {
    io.stdout.write(`rawrxd ${await readVersion()}\n`);
    return 0;
  }
  if (commandName === "help") return help(args, io);
  const command = commands.get(commandName);
  if (command === undefined) {
    const nearest = nearestName(commandName, [...commands.keys(), "help"]);
    throw usageError(
      "",
      `Unknown command "${commandName}".${nearest === undefined ? "" : ` Did you mean ${nearest}?`}`,
    );
  }
  if (wantsHelp(args)) {
    io.stdout.write(command.usage());
    return 0;
  }
  return command.run(args, context);
}

function help(args: string[], io: CliIo): number {
  if (wantsHelp(args)) {
    io.stdout.write(helpUsage);
    return 0;
  }
  if (args.length > 1) throw usageError("help", `Unexpected argument "${args[1]}".`);
  const topic = args[0];
  if (topic === undefined) {
    io.stdout.write(topLevelUsage);
    return 0;
  }
  const command = commands.get(topic);
  if (command === undefined) throw usageError("help", `Unknown command "${topic}".`);
  io.stdout.write(command.usage());
  return 0;
}

async function readVersion(): Promise<string> {
  try {
    const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}
