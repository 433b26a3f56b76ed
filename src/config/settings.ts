/**
 * The one settings table (STYLE.md §2): env name, flag, default, parser and description.
 * `loadConfig` reads it once at startup; `--help` and the README table are generated from it.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import {
  parseBoolean,
  parseByteSize,
  parseDurationMs,
  parseEnum,
  parseInteger,
  parseList,
  parsePostgresUrl,
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
  /** Other spellings of the flag with the same meaning, as llama-server users type them (`-c`, `--ctx-size`). */
  aliases?: readonly string[];
}

export interface Config {
  host: string;
  port: number;
  home: string;
  /** A folder of .gguf files, or one .gguf file served as the only model. */
  modelsDir: string;
  /** Do not offer the bundled demo model when the models folder is empty. */
  noDemoModel: boolean;
  /** The folder the shell's Workspace panel may read and write; "" = no workspace. */
  workspace: string;
  workspaceMaxFileBytes: number;
  gpu: "auto" | "cuda" | "vulkan" | "cpu";
  /** Which CPU build of llama.cpp runners load (docs/decisions/0012). */
  engineBuild: "auto" | "prebuilt" | "openmp";
  /** llama.cpp's flash attention (docs/decisions/0057). */
  flashAttention: "auto" | "on" | "off";
  speculative: "auto" | "off" | "input-lookup";
  /** A model (catalog name) that drafts tokens for speculative decoding; "" = none (docs/decisions/0041). */
  draftModel: string;
  /** 0 = auto: measured per model file and machine (see docs/decisions/0011). */
  threads: number;
  /** -1 = auto: the offload planner chooses. */
  gpuLayers: number;
  /** Bytes kept free on the GPU; -1 = auto. */
  gpuMarginBytes: number;
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
  authFailuresPerMinute: number;
  allowedHosts: string[];
  corsOrigins: string[];
  maxBodyBytes: number;
  /** Largest total size of a request's headers; larger ones get 431 from the HTTP parser. */
  maxHeaderBytes: number;
  /** Longest a client may take to send a request's headers (slowloris guard). */
  headerTimeoutMs: number;
  /** Longest a client may take to send a whole request, body included; 0 = no limit. Responses are never cut by it. */
  requestTimeoutMs: number;
  maxTokensLimit: number;
  /** Fill-in-the-middle prompt order (docs/decisions/0021). */
  fimOrder: "psm" | "spm";
  heartbeatMs: number;
  /** Generation events closer than this share one runner→server message and socket write; 0 = one each. */
  streamCoalesceMs: number;
  /** Lend the client's socket to the runner for a plain stream's text frames (ADR 0056). */
  streamSocketLending: boolean;
  /** Folder for persisted prompt-prefix states (docs/decisions/0022); "" = off. */
  promptCache: string;
  /** Bytes the prompt cache may hold per model and context setting; least recently used files go first. */
  promptCacheMaxBytes: number;
  shutdownGraceMs: number;
  loadTimeoutMs: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  noMetrics: boolean;
  /** Write no audit log (RAWRXD_HOME/audit). */
  noAudit: boolean;
  /** A second folder that receives a copy of every signed audit checkpoint; "" = none. */
  auditWitness: string;
  /** The shared PostgreSQL (postgres://…) of a cluster; "" = SQLite only (docs/decisions/0038). */
  store: string;
  /** PostgreSQL URL whose witness table receives every signed audit checkpoint of this node; "" = none. */
  auditWitnessUrl: string;
  /** Audit retention and fail-closed default: standard (365 days) or hipaa (6 years, fail-closed). */
  auditProfile: "standard" | "hipaa";
  /** Refuse inference (503) while the audit log cannot be written; on by default in the hipaa profile. */
  auditFailClosed: boolean;
  /** Inference records also carry the prompt and output text, redacted. */
  auditContent: boolean;
  metricsIntervalMs: number;
  metricsRequestLog: number;
  metricsRetentionMs: number;
  warnWindowMs: number;
  warnForMs: number;
  warnMinRequests: number;
  warnDecodeTokensPerSecond: number;
  warnTtftP95Ms: number;
  warnQueueP95Ms: number;
  warnMemoryPercent: number;
  warnEventLoopLagMs: number;
  /** Run no SLA monitor: no health checks, no /v1/sla routes, no availability records. */
  noSla: boolean;
  healthIntervalMs: number;
  /** Availability target in percent (99.9 = three nines). */
  slaTargetPercent: number;
  /** A model to run a few tokens of synthetic inference on each check; "" = none. */
  slaProbeModel: string;
  /** Where alerts are POSTed as JSON; "" = none. */
  alertWebhook: string;
  /** Time-to-first-token p95 objectives per priority, ms ({} = none). */
  sloTtftP95Ms: Partial<Record<"high" | "normal" | "low", number>>;
  /** Where backups go (issue #12); any folder, e.g. on another disk. */
  backupDir: string;
  /** No backup schedule in the server (`rawrxd backup` still works). */
  noBackup: boolean;
  /** 0 = that kind is not scheduled. */
  backupIncrementalEveryMs: number;
  backupDifferentialEveryMs: number;
  backupFullEveryMs: number;
  backupKeepWithinMs: number;
  backupKeepDaily: number;
  /** HMAC-SHA-256 key that signs manifests; kept outside the backup folder. */
  backupKeyFile: string;
  /** AES-256-GCM key file for chunks at rest; "" = not encrypted. */
  backupEncryptionKeyFile: string;
  backupIncludeModels: boolean;
  backupIncludeAuditKey: boolean;
  /** Redis URL of the cluster this node joins (issue #18); "" = standalone. */
  cluster: string;
  /** This node's id in the cluster; "" = hostname and port. */
  nodeId: string;
  /** Shared secret of the internal node-to-node routes; never logged. */
  clusterSecret: string;
  /** Base URL other nodes reach this node at; "" = http://127.0.0.1:PORT. */
  advertiseUrl: string;
}

/** "auto" (→ `autoValue`) or what `parse` accepts. */
function parseAutoOr(autoValue: number, parse: Parser<number>): Parser<number> {
  return (raw) => {
    if (raw.trim().toLowerCase() === "auto") return autoValue;
    try {
      return parse(raw);
    } catch (error) {
      throw new Error(`expected "auto" or ${(error as Error).message.replace(/^expected /, "")}`);
    }
  };
}

type SettingsTable = { [Key in keyof Config]: Setting<Config[Key]> };

/** A duration of at least `minMs` (intervals and windows that must not be 0 or "forever"). */
function parseDurationAtLeast(minMs: number, minText: string): Parser<number> {
  return (raw) => {
    const ms = parseDurationMs(raw);
    if (ms < minMs) throw new Error(`expected a duration of at least ${minText}, got "${raw}"`);
    return ms;
  };
}

/** A percentage strictly between 0 and 100 (an availability target). */
const parseTargetPercent: Parser<number> = (raw) => {
  const value = Number(raw.trim());
  if (!Number.isFinite(value) || value <= 0 || value >= 100)
    throw new Error(`expected a percentage above 0 and below 100 such as 99.9 or 99.99, got "${raw}"`);
  return value;
};

/** "" or an http(s) URL. */
const parseWebhookUrl: Parser<string> = (raw) => {
  const text = raw.trim();
  if (text === "") return "";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`expected an http:// or https:// URL, got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`expected an http:// or https:// URL, got "${raw}"`);
  return url.toString();
};

/** "" or a redis:// (rediss://) URL. */
const parseRedisUrl: Parser<string> = (raw) => {
  const text = raw.trim();
  if (text === "") return "";
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "redis:" && url.protocol !== "rediss:"))
    throw new Error(`expected a redis://HOST:PORT URL, got "${raw}"`);
  return text;
};

/** Letters, digits, dot, underscore and dash: it names Redis keys and log lines. */
const parseNodeId: Parser<string> = (raw) => {
  const text = raw.trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text))
    throw new Error(`expected 1 to 64 letters, digits, ".", "_" or "-", got "${raw}"`);
  return text;
};

/** "high=500ms,normal=2s": a duration per priority. */
const parsePriorityDurations: Parser<Partial<Record<"high" | "normal" | "low", number>>> = (raw) => {
  const result: Partial<Record<"high" | "normal" | "low", number>> = {};
  for (const part of parseList(raw)) {
    const [priority, duration, extra] = part.split("=");
    if (
      extra !== undefined ||
      duration === undefined ||
      (priority !== "high" && priority !== "normal" && priority !== "low")
    )
      throw new Error(`expected PRIORITY=DURATION pairs such as high=500ms,normal=2s, got "${part}"`);
    result[priority] = parseDurationMs(duration);
  }
  return result;
};

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
    description:
      "Folder of .gguf files (a model's name is its file name without .gguf), or one .gguf file to serve as the only model.",
    aliases: ["-m", "--model"],
  },
  noDemoModel: {
    env: "RAWRXD_NO_DEMO_MODEL",
    flag: "--no-demo-model",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description:
      "Do not offer the bundled demo model (stories260K, 1 MiB) when the models folder has no models.",
    isSwitch: true,
  },
  workspace: {
    env: "RAWRXD_WORKSPACE",
    flag: "--workspace",
    defaultValue: () => "",
    defaultText: "(none)",
    parse: parseString,
    description:
      "Folder the shell's Workspace panel edits (admin-only routes /v1/workspace/*); nothing outside it is read or written, links out and hidden files are refused.",
  },
  workspaceMaxFileBytes: {
    env: "RAWRXD_WORKSPACE_MAX_FILE_BYTES",
    flag: "--workspace-max-file-bytes",
    defaultValue: () => 1024 * 1024,
    defaultText: "1048576",
    parse: parseInteger(1, 64 * 1024 * 1024),
    description: "Largest workspace file opened or saved, in bytes; larger ones get 413.",
  },
  gpu: {
    env: "RAWRXD_GPU",
    flag: "--gpu",
    defaultValue: () => "auto",
    defaultText: "auto",
    parse: parseEnum(["auto", "cuda", "vulkan", "cpu"] as const),
    description: "Compute backend: auto picks CUDA, then Vulkan, then CPU.",
  },
  engineBuild: {
    env: "RAWRXD_ENGINE_BUILD",
    flag: "--engine-build",
    defaultValue: () => "auto",
    defaultText: "auto",
    parse: parseEnum(["auto", "prebuilt", "openmp"] as const),
    description:
      "CPU engine build: prebuilt (node-llama-cpp's npm binaries), openmp (the local build `npm run engine:build` makes; fails when it is missing), auto: openmp when it has been built, else prebuilt.",
  },
  flashAttention: {
    env: "RAWRXD_FLASH_ATTENTION",
    flag: "--flash-attention",
    defaultValue: () => "auto",
    defaultText: "auto",
    parse: parseEnum(["auto", "on", "off"] as const),
    description:
      "llama.cpp's flash attention: auto = off on the CPU for models with 32 or fewer key values per attention head (there it is 1.5-6x slower), else llama.cpp's own choice (on); on; off. GET /v1/gpu says which and why, per model.",
  },
  speculative: {
    env: "RAWRXD_SPECULATIVE",
    flag: "--speculative",
    // auto by default since ADR 0058: with flash attention off for narrow heads (ADR 0057) prompt
    // lookup paid on both benchmark models, copy 1.57–1.75×, free text 1.09–1.39×, same text.
    defaultValue: () => "auto",
    defaultText: "auto",
    parse: parseEnum(["auto", "off", "input-lookup"] as const),
    description:
      "Speculative decoding by prompt lookup (drafts what followed the context's last tokens earlier in the prompt or output; greedy output unchanged): auto (default) = for greedy requests, pausing while drafts are refuted, and not for models under 16 MiB on the local engine build, where run-ahead decoding pays more; input-lookup = every request, always; off. usage and /v1/metrics report drafted and accepted tokens.",
  },
  draftModel: {
    env: "RAWRXD_DRAFT_MODEL",
    flag: "--draft-model",
    defaultValue: () => "",
    defaultText: "none",
    parse: parseString,
    description:
      "A small model of the same vocabulary (checked at load: token count, texts and types) that drafts tokens for speculative decoding, in the same runner and thread budget; used for greedy requests without grammar or penalties (every request without penalties under --speculative input-lookup), pausing while drafts are refuted. Greedy output unchanged.",
  },
  threads: {
    env: "RAWRXD_THREADS",
    flag: "--threads",
    defaultValue: () => 0,
    defaultText: "auto",
    parse: parseAutoOr(0, parseInteger(1, 256)),
    description:
      "CPU threads per runner. auto: measured at a model's first load when the machine is quiet (2 cores: decode compared on served requests), cached per model file and machine in $RAWRXD_HOME/cache; busy: cores − 1, measured later.",
    aliases: ["-t"],
  },
  gpuLayers: {
    env: "RAWRXD_GPU_LAYERS",
    flag: "--gpu-layers",
    defaultValue: () => -1,
    defaultText: "auto",
    parse: parseAutoOr(-1, parseInteger(0, 1024)),
    description:
      "Layers offloaded to the GPU. auto: all that fit in free GPU memory minus --gpu-margin, else as many as fit, else none.",
    aliases: ["-ngl", "--n-gpu-layers"],
  },
  gpuMarginBytes: {
    env: "RAWRXD_GPU_MARGIN",
    flag: "--gpu-margin",
    defaultValue: () => -1,
    defaultText: "auto",
    parse: parseByteSize,
    description:
      "GPU memory the offload planner leaves free per device (e.g. 1GiB); auto = node-llama-cpp's padding, 8% of the device up to 1.6 GiB, at least 512 MiB.",
  },
  contextTokens: {
    env: "RAWRXD_CONTEXT_SIZE",
    flag: "--context-size",
    defaultValue: () => 2048,
    defaultText: "2048",
    parse: parseInteger(64, 1_048_576),
    description:
      "Context size in tokens per sequence (prompt plus output); capped at the model's training context.",
    aliases: ["-c", "--ctx-size"],
  },
  parallel: {
    env: "RAWRXD_PARALLEL",
    flag: "--parallel",
    defaultValue: () => 4,
    defaultText: "4",
    parse: parseInteger(1, 64),
    description: "Concurrent sequences per loaded model; more requests queue.",
    aliases: ["-np"],
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
    description:
      "Requests waiting for a sequence, across models; beyond it requests get 503/429 with Retry-After.",
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
    description:
      "A waiting request rises one priority class per this much waiting, so low never starves (0 = off).",
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
    description:
      "Memory all loaded models may use (e.g. 12GiB); auto = available RAM at startup minus 1 GiB.",
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
    description:
      "Comma-separated admin API keys (ids config-1, config-2, …), besides the managed keys of `rawrxd keys`.",
    aliases: ["--api-key"],
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
  authFailuresPerMinute: {
    env: "RAWRXD_AUTH_FAILURES_PER_MINUTE",
    flag: "--auth-failures-per-minute",
    defaultValue: () => 10,
    defaultText: "10",
    parse: parseInteger(0, 1_000_000),
    description:
      "Failed authentications one address may make per minute; beyond it, 429 with Retry-After (0 = no limit).",
  },
  allowedHosts: {
    env: "RAWRXD_ALLOWED_HOSTS",
    flag: "--allowed-hosts",
    defaultValue: () => [],
    defaultText: "(none)",
    parse: parseList,
    description:
      "Host names clients may use besides IP addresses, localhost and --host (DNS-rebinding guard); * allows any.",
  },
  corsOrigins: {
    env: "RAWRXD_CORS_ORIGINS",
    flag: "--cors-origins",
    defaultValue: () => [],
    defaultText: "(none)",
    parse: parseList,
    description: "Web origins allowed to call cross-origin (https://app.example); other origins get 403.",
  },
  maxBodyBytes: {
    env: "RAWRXD_MAX_BODY_BYTES",
    flag: "--max-body-bytes",
    defaultValue: () => 4 * 1024 * 1024,
    defaultText: "4194304",
    parse: parseInteger(1024, 1024 * 1024 * 1024),
    description: "Largest accepted request body; larger ones get 413.",
  },
  maxHeaderBytes: {
    env: "RAWRXD_MAX_HEADER_BYTES",
    flag: "--max-header-bytes",
    defaultValue: () => 16 * 1024,
    defaultText: "16384",
    parse: parseInteger(1024, 1024 * 1024),
    description: "Largest accepted total size of a request's headers; larger ones get 431.",
  },
  headerTimeoutMs: {
    env: "RAWRXD_HEADER_TIMEOUT",
    flag: "--header-timeout",
    defaultValue: () => 10_000,
    defaultText: "10s",
    parse: parseDurationMs,
    description:
      "Longest a client may take to send a request's headers; slower ones (slowloris) get 408 and are closed.",
  },
  requestTimeoutMs: {
    env: "RAWRXD_REQUEST_TIMEOUT",
    flag: "--request-timeout",
    defaultValue: () => 60_000,
    defaultText: "60s",
    parse: parseDurationMs,
    description:
      "Longest a client may take to send a whole request, body included (0 = no limit); 408 and closed after. Only receiving counts: a long streamed answer is never cut.",
  },
  maxTokensLimit: {
    env: "RAWRXD_MAX_TOKENS_LIMIT",
    flag: "--max-tokens-limit",
    defaultValue: () => 32_768,
    defaultText: "32768",
    parse: parseInteger(1, 10_000_000),
    description: "Largest max_tokens / num_predict a request may ask for.",
  },
  fimOrder: {
    env: "RAWRXD_FIM_ORDER",
    flag: "--fim-order",
    defaultValue: () => "psm",
    defaultText: "psm",
    parse: parseEnum(["psm", "spm"] as const),
    description:
      "Fill-in-the-middle prompt order: psm (<PRE> prefix <SUF> suffix <MID>, what most code models are trained on) or spm (<SUF> suffix <PRE> prefix <MID>: a keystroke re-evaluates only the typed tokens; for models trained on it, as llama-server's --spm-infill).",
  },
  heartbeatMs: {
    env: "RAWRXD_HEARTBEAT",
    flag: "--heartbeat",
    defaultValue: () => 15_000,
    defaultText: "15s",
    parse: parseDurationMs,
    description: "Interval of the SSE comment heartbeat while a stream is silent.",
  },
  streamCoalesceMs: {
    env: "RAWRXD_STREAM_COALESCE_MS",
    flag: "--stream-coalesce-ms",
    defaultValue: () => 50,
    defaultText: "50",
    parse: parseInteger(0, 100),
    description:
      "Tokens streamed closer than this many ms share one runner message and one socket write (still one event each); the first after a pause is never delayed. 0 = one per token. 0–100.",
  },
  streamSocketLending: {
    env: "RAWRXD_STREAM_SOCKET_LENDING",
    flag: "--stream-socket-lending",
    defaultValue: () => true,
    defaultText: "on",
    parse: parseBoolean,
    description:
      "While a plain streamed generation produces text, the model's runner writes its frames to the client's connection itself; the server writes the start and the end. on or off.",
  },
  promptCache: {
    env: "RAWRXD_PROMPT_CACHE",
    flag: "--prompt-cache",
    defaultValue: () => "",
    defaultText: "off",
    parse: parseString,
    description:
      "Folder that keeps the KV state of long prompt prefixes (a system prompt, an IDE's context) across restarts, per model and context setting; a prompt sharing 64+ tokens with a saved prefix skips evaluating them.",
  },
  promptCacheMaxBytes: {
    env: "RAWRXD_PROMPT_CACHE_SIZE",
    flag: "--prompt-cache-size",
    defaultValue: () => 4 * 1024 ** 3,
    defaultText: "4GiB",
    parse: parseByteSize,
    description:
      "Disk the --prompt-cache may use per model and context setting (e.g. 512MiB); least recently used prefix files are deleted first.",
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
  noMetrics: {
    env: "RAWRXD_NO_METRICS",
    flag: "--no-metrics",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description:
      "Record no metrics: no /metrics or /v1/metrics routes, no request log, no performance warnings.",
    isSwitch: true,
  },
  noAudit: {
    env: "RAWRXD_NO_AUDIT",
    flag: "--no-audit",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description:
      "Write no audit log (RAWRXD_HOME/audit): no signed record of starts, settings, keys, models or requests.",
    isSwitch: true,
  },
  auditWitness: {
    env: "RAWRXD_AUDIT_WITNESS",
    flag: "--audit-witness",
    defaultValue: () => "",
    defaultText: "none",
    parse: parseString,
    description:
      "Folder (best on another disk or host mount) that receives a copy of every signed audit checkpoint, so a rewrite of the whole audit folder is caught: rawrxd audit verify --witness DIR. A witness write failure degrades health, never stops serving.",
  },
  store: {
    env: "RAWRXD_STORE",
    flag: "--store",
    defaultValue: () => "",
    defaultText: "none (SQLite only)",
    parse: parsePostgresUrl,
    description:
      "Shared state on PostgreSQL (postgres://user:password@host:port/database): the authority for API keys (each node keeps a synchronous local copy) and where every node ships its request log, metric rollups and SLA records. Unreachable, nodes go on serving from their local state.",
  },
  auditWitnessUrl: {
    env: "RAWRXD_AUDIT_WITNESS_URL",
    flag: "--audit-witness-url",
    defaultValue: () => "",
    defaultText: "--store, else none",
    parse: parsePostgresUrl,
    description:
      "PostgreSQL (postgres://user@host:port/db) whose insert-only table witnesses every signed audit checkpoint of each cluster node: rawrxd audit verify --cluster URL. Writes are queued and retried; an outage never stops serving (pending count in GET /v1/audit/status). Default: the --store PostgreSQL when set.",
  },
  auditProfile: {
    env: "RAWRXD_AUDIT_PROFILE",
    flag: "--audit-profile",
    defaultValue: () => "standard",
    defaultText: "standard",
    parse: parseEnum(["standard", "hipaa"] as const),
    description:
      "Audit retention class: standard keeps sealed segments 365 days; hipaa keeps 6 years and turns on --audit-fail-closed.",
  },
  auditFailClosed: {
    env: "RAWRXD_AUDIT_FAIL_CLOSED",
    flag: "--audit-fail-closed",
    defaultValue: () => false,
    defaultText: "false (hipaa: on)",
    parse: parseBoolean,
    description:
      "Refuse inference with 503 while the audit log cannot be written, and end a request whose record failed with an error; off: log a critical line and keep serving.",
    isSwitch: true,
  },
  auditContent: {
    env: "RAWRXD_AUDIT_CONTENT",
    flag: "--audit-content",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description:
      "Inference records also carry the prompt and output text after redaction (e-mail, phone, SSN- and card-like numbers); off: only the prompt's SHA-256.",
    isSwitch: true,
  },
  metricsIntervalMs: {
    env: "RAWRXD_METRICS_INTERVAL",
    flag: "--metrics-interval",
    defaultValue: () => 5_000,
    defaultText: "5s",
    parse: parseDurationAtLeast(100, "100ms"),
    description:
      "How often metrics are aggregated and saved and the warning rules run (reads aggregate at once).",
  },
  metricsRequestLog: {
    env: "RAWRXD_METRICS_REQUEST_LOG",
    flag: "--metrics-request-log",
    defaultValue: () => 10_000,
    defaultText: "10000",
    parse: parseInteger(1, 1_000_000),
    description:
      "Finished requests kept in the request log (GET /v1/metrics/requests), in memory and in rawrxd.db.",
  },
  metricsRetentionMs: {
    env: "RAWRXD_METRICS_RETENTION",
    flag: "--metrics-retention",
    defaultValue: () => 7 * 24 * 3_600_000,
    defaultText: "168h",
    parse: parseDurationAtLeast(3_600_000, "1h"),
    description: "How long per-minute metric rollups stay in rawrxd.db (the history behind ?window=24h).",
  },
  warnWindowMs: {
    env: "RAWRXD_WARN_WINDOW",
    flag: "--warn-window",
    defaultValue: () => 5 * 60_000,
    defaultText: "5m",
    parse: parseDurationAtLeast(1_000, "1s"),
    description: "Sliding window the performance-warning rules measure over.",
  },
  warnForMs: {
    env: "RAWRXD_WARN_FOR",
    flag: "--warn-for",
    defaultValue: () => 60_000,
    defaultText: "1m",
    parse: parseDurationAtLeast(0, "0s"),
    description:
      "How long a rule must be breached before its warning starts, and be recovered (10% past the threshold) before it clears.",
  },
  warnMinRequests: {
    env: "RAWRXD_WARN_MIN_REQUESTS",
    flag: "--warn-min-requests",
    defaultValue: () => 5,
    defaultText: "5",
    parse: parseInteger(1, 1_000_000),
    description: "Requests a model needs in the window before its decode-speed, TTFT and queue rules apply.",
  },
  warnDecodeTokensPerSecond: {
    env: "RAWRXD_WARN_DECODE_TPS",
    flag: "--warn-decode-tps",
    defaultValue: () => 0,
    defaultText: "0 (off)",
    parse: parseInteger(0, 1_000_000),
    description:
      "Warn when a model's median decode speed over --warn-window is below this many tokens/s (0 = off).",
  },
  warnTtftP95Ms: {
    env: "RAWRXD_WARN_TTFT_P95",
    flag: "--warn-ttft-p95",
    defaultValue: () => 10_000,
    defaultText: "10s",
    parse: parseDurationMs,
    description: "Warn when a model's time-to-first-token p95 over --warn-window is above this (0 = off).",
  },
  warnQueueP95Ms: {
    env: "RAWRXD_WARN_QUEUE_P95",
    flag: "--warn-queue-p95",
    defaultValue: () => 30_000,
    defaultText: "30s",
    parse: parseDurationMs,
    description: "Warn when a model's queue-wait p95 over --warn-window is above this (0 = off).",
  },
  warnMemoryPercent: {
    env: "RAWRXD_WARN_MEMORY",
    flag: "--warn-memory",
    defaultValue: () => 90,
    defaultText: "90",
    parse: parseInteger(0, 100),
    description: "Warn when the runners' memory is above this percentage of the memory budget (0 = off).",
  },
  warnEventLoopLagMs: {
    env: "RAWRXD_WARN_EVENT_LOOP_LAG",
    flag: "--warn-event-loop-lag",
    defaultValue: () => 500,
    defaultText: "500ms",
    parse: parseDurationMs,
    description: "Warn when the main event loop's delay p99 over an interval is above this (0 = off).",
  },
  noSla: {
    env: "RAWRXD_NO_SLA",
    flag: "--no-sla",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description:
      "Run no SLA monitor: no health checks, availability records, incidents, alerts or /v1/sla routes.",
    isSwitch: true,
  },
  healthIntervalMs: {
    env: "RAWRXD_HEALTH_INTERVAL",
    flag: "--health-interval",
    defaultValue: () => 10_000,
    defaultText: "10s",
    parse: parseDurationAtLeast(100, "100ms"),
    description:
      "How often the SLA health checks run and the heartbeat is written (each check's deadline: this, at most 5s).",
  },
  slaTargetPercent: {
    env: "RAWRXD_SLA_TARGET",
    flag: "--sla-target",
    defaultValue: () => 99.9,
    defaultText: "99.9",
    parse: parseTargetPercent,
    description:
      "Availability target in percent per calendar month (UTC): 99.9 allows 43.2 min of downtime in 30 days, 99.99 allows 4.32 min.",
  },
  slaProbeModel: {
    env: "RAWRXD_SLA_PROBE_MODEL",
    flag: "--sla-probe-model",
    defaultValue: () => "",
    defaultText: "(none)",
    parse: parseString,
    description:
      "A model the health checks ask for a few tokens at high priority each interval (loads it if needed); failing counts against the SLA.",
  },
  alertWebhook: {
    env: "RAWRXD_ALERT_WEBHOOK",
    flag: "--alert-webhook",
    defaultValue: () => "",
    defaultText: "(none)",
    parse: parseWebhookUrl,
    description:
      "URL that SLA alerts (burn rate, incidents, backup, audit) are POSTed to as JSON, retried with backoff.",
  },
  sloTtftP95Ms: {
    env: "RAWRXD_SLO_TTFT_P95",
    flag: "--slo-ttft-p95",
    defaultValue: () => ({}),
    defaultText: "(none)",
    parse: parsePriorityDurations,
    description:
      "Time-to-first-token p95 objectives per priority for the SLA report, e.g. high=500ms,normal=2s.",
  },
  backupDir: {
    env: "RAWRXD_BACKUP_DIR",
    flag: "--backup-dir",
    defaultValue: (resolved) => join(resolved.home ?? join(homedir(), ".rawrxd"), "backups"),
    defaultText: "$RAWRXD_HOME/backups",
    parse: parseString,
    description: "Folder the backups go to (chunk store and signed manifests); best on another disk.",
  },
  noBackup: {
    env: "RAWRXD_NO_BACKUP",
    flag: "--no-backup",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description: "Run no backup schedule in the server (`rawrxd backup` commands still work).",
    isSwitch: true,
  },
  backupIncrementalEveryMs: {
    env: "RAWRXD_BACKUP_INCREMENTAL_EVERY",
    flag: "--backup-incremental-every",
    defaultValue: () => 15 * 60_000,
    defaultText: "15m",
    parse: parseDurationMs,
    description: "How often the server makes an incremental backup: the RPO (0 = never).",
  },
  backupDifferentialEveryMs: {
    env: "RAWRXD_BACKUP_DIFFERENTIAL_EVERY",
    flag: "--backup-differential-every",
    defaultValue: () => 60 * 60_000,
    defaultText: "1h",
    parse: parseDurationMs,
    description: "How often the server makes a differential backup, against the last full (0 = never).",
  },
  backupFullEveryMs: {
    env: "RAWRXD_BACKUP_FULL_EVERY",
    flag: "--backup-full-every",
    defaultValue: () => 24 * 60 * 60_000,
    defaultText: "24h",
    parse: parseDurationMs,
    description:
      "How often the server makes a full backup, then prunes by the retention settings (0 = never).",
  },
  backupKeepWithinMs: {
    env: "RAWRXD_BACKUP_KEEP_WITHIN",
    flag: "--backup-keep-within",
    defaultValue: () => 30 * 24 * 60 * 60_000,
    defaultText: "720h",
    parse: parseDurationMs,
    description: "Prune keeps every backup younger than this (and the chains they need).",
  },
  backupKeepDaily: {
    env: "RAWRXD_BACKUP_KEEP_DAILY",
    flag: "--backup-keep-daily",
    defaultValue: () => 30,
    defaultText: "30",
    parse: parseInteger(0, 100_000),
    description: "Prune also keeps the newest backup of each of this many most recent days that have one.",
  },
  backupKeyFile: {
    env: "RAWRXD_BACKUP_KEY_FILE",
    flag: "--backup-key-file",
    defaultValue: (resolved) =>
      join(resolved.home ?? join(homedir(), ".rawrxd"), "keys", "backup-signing.key"),
    defaultText: "$RAWRXD_HOME/keys/backup-signing.key",
    parse: parseString,
    description:
      "HMAC-SHA-256 key (64 hex digits, created on first backup) that signs backup manifests; keep a copy away from the backups.",
  },
  backupEncryptionKeyFile: {
    env: "RAWRXD_BACKUP_ENCRYPTION_KEY_FILE",
    flag: "--backup-encryption-key-file",
    defaultValue: () => "",
    defaultText: "(none)",
    parse: parseString,
    description:
      "AES-256-GCM key file (64 hex digits, e.g. `openssl rand -hex 32`): encrypt backup chunks at rest.",
  },
  backupIncludeModels: {
    env: "RAWRXD_BACKUP_INCLUDE_MODELS",
    flag: "--backup-include-models",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description: "Back up the .gguf model files too (deduplicated: each file stored once across backups).",
    isSwitch: true,
  },
  backupIncludeAuditKey: {
    env: "RAWRXD_BACKUP_INCLUDE_AUDIT_KEY",
    flag: "--backup-include-audit-key",
    defaultValue: () => false,
    defaultText: "false",
    parse: parseBoolean,
    description:
      "Back up the audit signing private key too (off: a key stored beside the log it signs proves nothing).",
    isSwitch: true,
  },
  cluster: {
    env: "RAWRXD_CLUSTER",
    flag: "--cluster",
    defaultValue: () => "",
    defaultText: "(none)",
    parse: parseRedisUrl,
    description:
      "Redis URL (redis://HOST:PORT) of the cluster to join: nodes share one queue (BullMQ) and stream node to node (docs/cluster.md).",
  },
  nodeId: {
    env: "RAWRXD_NODE_ID",
    flag: "--node-id",
    defaultValue: () => "",
    defaultText: "hostname-port",
    parse: parseNodeId,
    description: "This node's id in the cluster (letters, digits, . _ -); stable across restarts.",
  },
  clusterSecret: {
    env: "RAWRXD_CLUSTER_SECRET",
    flag: "--cluster-secret",
    defaultValue: () => "",
    defaultText: "(none)",
    parse: parseString,
    description:
      "Shared secret of the internal node-to-node routes; required with --cluster unless every node is loopback-only. Prefer the env variable.",
  },
  advertiseUrl: {
    env: "RAWRXD_ADVERTISE_URL",
    flag: "--advertise-url",
    defaultValue: () => "",
    defaultText: "http://127.0.0.1:PORT",
    parse: parseWebhookUrl,
    description: "Base URL the other cluster nodes reach this node at.",
  },
};
