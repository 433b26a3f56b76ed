/** Test helper: a CliIo that records output. Not exported from the folder's index. */
import type { CliIo } from "./cli-io.js";

export interface RecordingIo extends CliIo {
  output(): string;
  errors(): string;
}

export function createRecordingIo(
  options: { env?: Record<string, string | undefined>; stdinText?: string; stdinIsTTY?: boolean } = {},
): RecordingIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const text = options.stdinText;
  const stdin = Object.assign(
    (async function* () {
      if (text !== undefined) yield new TextEncoder().encode(text);
    })(),
    { isTTY: options.stdinIsTTY ?? text === undefined },
  );
  return {
    stdout: { write: (chunk: string) => stdout.push(chunk) },
    stderr: { write: (chunk: string) => stderr.push(chunk) },
    stdin,
    env: options.env ?? {},
    output: () => stdout.join(""),
    errors: () => stderr.join(""),
  };
}
