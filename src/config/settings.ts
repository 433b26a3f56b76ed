/**
 * The one settings table (STYLE.md §2): env name, flag, default, parser and description.
 * `loadConfig` reads it once at startup; `--help` and the README table are generated from it.
 */
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import {
  parseBoolean,
  parseByteSize,
  parseDurationMs,
  parseEnum,
  parseInteger,
  parseList,
  parseString,
  type Parser,
} from "./parsers.js";

export interface Setting<T> {
  env: string;
  flag: string;
  /** Default, computed from the settings resolved so far (for paths under home). */
  defaultValue: (resolved: Partial<Config>) => T;
  /** How the default reads in --help and the README. */
  defaultText: string;
  parse: Parser<T>;
  description: string;
  /** A flag that takes no value (`--insecure-no-auth`). */
  isSwitch?: boolean;
}

export interface Config {
  host: string;
  port: number;
  home: string;
  modelsDir: string;
  gpu: "auto" | "cuda" | "vulkan" | "cpu";
  threads: number;
  contextTokens: number;
  parallel: number;
  maxLoadedModels: number;
  maxQueued: number;
  maxQueuedPerModel: number;
  queuePolicy: "priority" | "fifo";
  priorityAgingMs: number;
  noPreemption: boolean;
  /** Bytes, or -1 for auto (available RAM at startup minus 1 GiB). */
  memoryBudgetBytes: number;
  pinnedModels: string[];
  keepAliveMs: number;
  queueTimeoutMs: number;
  apiKeys: string[];
  insecureNoAuth: boolean;
  maxBodyBytes: number;
  maxTokensLimit: number;
  heartbeatMs: number;
  shutdownGraceMs: number;
  loadTimeoutMs: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
}

/**
 * Threads default: one less than the cores, at least 1. On a 2-vCPU machine that is 1,
 * which measured fastest for a single stream (see README "Performance"); --threads overrides.
 */
function defaultThreads(): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}

type SettingsTable = { [Key in keyof Config]: Setting<Config[Key]> };

export const settings: SettingsTable = {
  host: {
    env: "RAWRXD_HOST",
    flag: "--host",
    defaultValue: () => "127.0.0.1",
    defaultText: "127.0.0.1",
    parse: parseString,
    description: "Address to listen on. Any non-loopback address requires API keys.",
  },
  port: {
    env: "RAWRXD_PORT",
    flag: "--port",
    defaultValue: () => 11435,
    defaultText: "11435",
    parse: parseInteger(0, 65535),
    description: "TCP port to listen on (0 picks a free port).",
  },
  home: {
    env: "RAWRXD_HOME",
    flag: "--home",
    defaultValue: () => join(homedir(), ".rawrxd"),
    defaultText: "~/.rawrxd",
    parse: parseString,
    description: "Data directory: models/, config.json and server state.",
  },
  modelsDir: {
    env: "RAWRXD_MODELS",
    flag: "--models",
    defaultValue: (resolved) => join(resolved.home ?? join(homedir(), ".rawrxd"), "models"),
    defaultText: "$RAWRXD_HOME/models",
    parse: parseString,
    description: "Folder of .gguf files; a model's name is its file name without .gguf.",
  },
  gpu: {
    env: "RAWRXD_GPU",
    flag: "--gpu",
    defaultValue: () => "auto",
    defaultText: "auto",
    parse: parseEnum(["auto", "cuda", "vulkan", "cpu"] as const),
    description: "Compute backend: auto picks CUDA, then Vulkan, then CPU.",
  },
  threads: {
    env: "RAWRXD_THREADS",
    flag: "--threads",
    defaultValue: defaultThreads,
    defaultText: "cores - 1 (min 1, max 8)",
    parse: parseInteger(1, 256),
    description: "CPU threads per runner for decoding.",
  },
  contextTokens: {
    env: "RAWRXD_CONTEXT_SIZE",
    flag: "--context-size",
    defaultValue: () => 2048,
    defaultText: "2048",
    parse: parseInteger(64, 1_048_576),
    description: "Context size in tokens per sequence (prompt plus output); capped at the model's training context.",
  },
  parallel: {
    env: "RAWRXD_PARALLEL",
    flag: "--parallel",
    defaultValue: () => 4,
    defaultText: "4",
    parse: parseInteger(1, 64),
    description: "Concurrent sequences per loaded model; more requests queue.",
  },
  maxLoadedModels: {
    env: "RAWRXD_MAX_LOADED_MODELS",
    flag: "--max-loaded-models",
    defaultValue: () => 2,
    defaultText: "2",
    parse: parseInteger(1, 64),
    description: "Models resident at once; the least recently used idle one is unloaded first.",
  },
  maxQueued: {
    env: "RAWRXD_MAX_QUEUE",
    flag: "--max-queue",
    defaultValue: () => 256,
    defaultText: "256",
    parse: parseInteger(1, 100_000),
    description: "Requests waiting for a sequence, across models; beyond it requests get 503/429 with Retry-After.",
  },
  maxQueuedPerModel: {
    env: "RAWRXD_MAX_QUEUE_PER_MODEL",
    flag: "--max-queue-per-model",
    defaultValue: (resolved) => resolved.maxQueued ?? 256,
    defaultText: "--max-queue",
    parse: parseInteger(1, 100_000),
    description: "Requests waiting for one model; beyond it that model's requests get 503/429.",
  },
  queuePolicy: {
    env: "RAWRXD_QUEUE_POLICY",
    flag: "--queue-policy",
    defaultValue: () => "priority",
    defaultText: "priority",
    parse: parseEnum(["priority", "fifo"] as const),
    description: "priority: high, normal, low with aging; fifo: arrival order (priorities ignored).",
  },
  priorityAgingMs: {
    env: "RAWRXD_PRIORITY_AGING",
    flag: "--priority-aging",
    defaultValue: () => 30_000,
    defaultText: "30s",
    parse: parseDurationMs,
    description: "A waiting request rises one priority class per this much waiting, so low never starves (0 = off).",
  },
  noPreemption: {
    env: "RAWRXD_NO_PREEMPTION",
    flag: "--no-preemption",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description: "Never pause a running low-priority request to serve a waiting high one.",
    isSwitch: true,
  },
  memoryBudgetBytes: {
    env: "RAWRXD_MEMORY_BUDGET",
    flag: "--memory-budget",
    defaultValue: () => -1,
    defaultText: "auto",
    parse: parseByteSize,
    description: "Memory all loaded models may use (e.g. 12GiB); auto = available RAM at startup minus 1 GiB.",
  },
  pinnedModels: {
    env: "RAWRXD_PIN",
    flag: "--pin",
    defaultValue: () => [],
    defaultText: "(none)",
    parse: parseList,
    description: "Comma-separated models that stay loaded once loaded and are never evicted.",
  },
  keepAliveMs: {
    env: "RAWRXD_KEEP_ALIVE",
    flag: "--keep-alive",
    defaultValue: () => 5 * 60_000,
    defaultText: "5m",
    parse: parseDurationMs,
    description: "How long an idle model stays loaded (0 = unload at once, negative = forever).",
  },
  queueTimeoutMs: {
    env: "RAWRXD_QUEUE_TIMEOUT",
    flag: "--queue-timeout",
    defaultValue: () => 10 * 60_000,
    defaultText: "10m",
    parse: parseDurationMs,
    description: "Longest a request may wait for a sequence before it fails with 503.",
  },
  apiKeys: {
    env: "RAWRXD_API_KEYS",
    flag: "--api-keys",
    defaultValue: () => [],
    defaultText: "(none)",
    parse: parseList,
    description: "Comma-separated API keys; when set, every route but /health needs `Authorization: Bearer KEY`.",
  },
  insecureNoAuth: {
    env: "RAWRXD_INSECURE_NO_AUTH",
    flag: "--insecure-no-auth",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description: "Allow a non-loopback --host without API keys. Anyone who can reach the port can use it.",
    isSwitch: true,
  },
  maxBodyBytes: {
    env: "RAWRXD_MAX_BODY_BYTES",
    flag: "--max-body-bytes",
    defaultValue: () => 4 * 1024 * 1024,
    defaultText: "4194304",
    parse: parseInteger(1024, 1024 * 1024 * 1024),
    description: "Largest accepted request body; larger ones get 413.",
  },
  maxTokensLimit: {
    env: "RAWRXD_MAX_TOKENS_LIMIT",
    flag: "--max-tokens-limit",
    defaultValue: () => 32_768,
    defaultText: "32768",
    parse: parseInteger(1, 10_000_000),
    description: "Largest max_tokens / num_predict a request may ask for.",
  },
  heartbeatMs: {
    env: "RAWRXD_HEARTBEAT",
    flag: "--heartbeat",
    defaultValue: () => 15_000,
    defaultText: "15s",
    parse: parseDurationMs,
    description: "Interval of the SSE comment heartbeat while a stream is silent.",
  },
  shutdownGraceMs: {
    env: "RAWRXD_SHUTDOWN_GRACE",
    flag: "--shutdown-grace",
    defaultValue: () => 10_000,
    defaultText: "10s",
    parse: parseDurationMs,
    description: "On SIGINT/SIGTERM, how long running streams may finish before they are cancelled.",
  },
  loadTimeoutMs: {
    env: "RAWRXD_LOAD_TIMEOUT",
    flag: "--load-timeout",
    defaultValue: () => 5 * 60_000,
    defaultText: "5m",
    parse: parseDurationMs,
    description: "Longest a model load may take before its runner is stopped.",
  },
  logLevel: {
    env: "RAWRXD_LOG_LEVEL",
    flag: "--log-level",
    defaultValue: () => "info",
    defaultText: "info",
    parse: parseEnum(["debug", "info", "warn", "error", "silent"] as const),
    description: "Log level of the JSON lines on stderr.",
  },
};
