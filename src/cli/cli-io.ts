/**
 * What the commands touch of the outside world, injectable so tests can capture output and
 * swap the server: streams, environment, and the composition root that `serve` boots.
 */
import type { Config } from "../config/index.js";
import type { TimePort } from "../core/index.js";

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Terminal width in characters, when a terminal. */
  columns?: number;
}

export interface InputStream extends AsyncIterable<string | Uint8Array> {
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: InputStream;
  env: Record<string, string | undefined>;
}

/** The contract `serve` expects from src/app. */
export interface RunningServer {
  url: string;
  /** What --models offered at start, for the banner. */
  models: {
    source: string;
    isSingleFile: boolean;
    count: number;
    demoModelName: string | undefined;
  };
  close(): Promise<void>;
  /** Settles when the server has shut down (SIGINT/SIGTERM or `close()`). */
  closed: Promise<void>;
}

export interface AppModule {
  startServer(config: Readonly<Config>): Promise<RunningServer>;
}

export interface CliDependencies {
  /** Loads src/app; dynamic so that only `serve` pays for the server's imports. */
  loadApp?: () => Promise<AppModule>;
  /** Sets the server's run-time V8 flags before `serve` loads the app. Default `applyServerV8Flags` (ADR 0061). */
  applyServerV8Flags?: () => void;
  /** Its wall clock dates "2 hours ago" and "4 minutes from now". Default `systemTime`. */
  time?: TimePort;
  /**
   * Registers a Ctrl-C handler and returns its remover. Default: `process.once("SIGINT")`.
   */
  onInterrupt?: (handler: () => void) => () => void;
}

export interface CommandContext {
  io: CliIo;
  dependencies: CliDependencies;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** A failure the CLI reports as one message; exit code 2 for usage errors, 1 otherwise. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A bad command line: printed with a hint to `--help`, exit code 2. */
export function usageError(command: string, problem: string): CliError {
  const prefix = command === "" ? "rawrxd" : `rawrxd ${command}`;
  const helpCommand = command === "" ? "rawrxd --help" : `rawrxd ${command} --help`;
  return new CliError(`${prefix}: ${problem} Run "${helpCommand}" for usage.`, { exitCode: 2 });
}

export function defaultOnInterrupt(handler: () => void): () => void {
  process.once("SIGINT", handler);
  return () => {
    process.removeListener("SIGINT", handler);
  };
}

/** One `rawrxd` subcommand. `run` receives the arguments after the command name. */
export interface Command {
  name: string;
  usage: () => string;
  run(args: string[], context: CommandContext): Promise<number>;
}
