/**
 * A command run on a pseudo-terminal, for tests of interactive CLI behaviour. Node has no pty
 * without native modules, so util-linux `script` makes one: `script -qfec CMD /dev/null` runs CMD
 * on a new pty, copies what the test writes to its standard input onto the terminal, and the
 * terminal's output to its standard output. Keys are bytes: Enter "\r", Ctrl-C "\x03", Ctrl-D "\x04".
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { waitFor } from "./wait-for.js";

export interface PtySession {
  /** Everything the terminal showed so far, ANSI control sequences removed. */
  screen(): string;
  /** The screen from this offset on (use with `mark()` to look only at new output). */
  since(offset: number): string;
  mark(): number;
  type(keys: string): void;
  /** Waits until the output after `from` matches. */
  waitForText(pattern: RegExp, what: string, from?: number): Promise<string>;
  /** Resolves to the command's exit code (script -e passes it through). */
  exited: Promise<number | null>;
  /** Kills the script process (and with it the pty's command) if still running. */
  kill(): void;
}

export function hasScriptCommand(): boolean {
  return spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
}

// eslint-disable-next-line no-control-regex -- terminal control sequences are what it removes
const ansi = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r/g;

export function startPty(
  command: string,
  options: { env?: NodeJS.ProcessEnv; columns?: number } = {},
): PtySession {
  const columns = options.columns ?? 200;
  const child: ChildProcess = spawn(
    "script",
    ["-qfec", `stty cols ${columns} rows 50; exec ${command}`, "/dev/null"],
    {
      env: { ...process.env, TERM: "xterm", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let raw = "";
  child.stdout?.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const screen = () => raw.replace(ansi, "");
  return {
    screen,
    since: (offset) => screen().slice(offset),
    mark: () => screen().length,
    type: (keys) => child.stdin?.write(keys),
    waitForText: (pattern, what, from = 0) =>
      waitFor(
        () => {
          const text = screen().slice(from);
          return pattern.test(text) ? text : undefined;
        },
        `${what} (screen so far: ${JSON.stringify(screen().slice(-400))})`,
        15_000,
      ),
    exited,
    kill: () => {
      if (child.exitCode === null && child.pid !== undefined) child.kill("SIGKILL");
    },
  };
}
