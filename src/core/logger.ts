/** Logger port: structured, one JSON line per record on stderr by default. */
import { systemTime, type TimePort } from "./time.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  minLevel: LogLevel | "silent",
  write: (line: string) => void = (line) => process.stderr.write(line + "\n"),
  time: TimePort = systemTime,
): Logger {
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (minLevel === "silent" || levelRank[level] < levelRank[minLevel]) return;
    write(JSON.stringify({ time: new Date(time.wallNow()).toISOString(), level, message, ...fields }));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

export const silentLogger: Logger = createLogger("silent");
