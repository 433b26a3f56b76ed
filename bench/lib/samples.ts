/** Shapes shared by both variants: one measured generation, and what a block of them needs. */

export type Variant = "direct" | "server";

export interface GenerationSample {
  variant: Variant;
  /** Which block of the interleaving (0-based) and which rep overall (prompt index). */
  block: number;
  rep: number;
  prompt: string;
  /** Call start (direct) or request sent (server) to the first token / first non-empty text chunk. */
  timeToFirstTokenMs: number;
  /** First to last token (direct) or first to last content chunk (server). */
  firstToLastMs: number;
  /** Call start or request sent to the end of the stream. */
  totalMs: number;
  completionTokens: number;
  /** (completionTokens - 1) / firstToLastMs, in tokens per second. */
  decodeTokensPerSecond: number;
  /** Server only: prompt tokens and how many of them the runner reused from its cache. */
  promptTokens?: number;
  cachedPromptTokens?: number;
  /** Server only: SSE chunks that carried text. */
  contentChunks?: number;
  /**
   * Server only, from the server's own events (same process, same clock), in ms since the
   * request was sent: the request reached the model queue (HTTP, body, schema, catalog done),
   * and the runner's first text reached the main process.
   */
  serverQueuedMs?: number;
  serverFirstTokenEventMs?: number;
  text: string;
}

/** CPU time spent during a block's measured reps (warm-up excluded). */
export interface BlockCpu {
  /** This process: direct = library + llama.cpp threads; server = HTTP server and the bench client. */
  benchProcessMs: number;
  /** Server only: the runner process (node-llama-cpp, llama.cpp threads, IPC). 10 ms resolution. */
  runnerProcessMs?: number;
  completionTokens: number;
}

export interface BlockPlan {
  modelPath: string;
  threads: number;
  contextSize: number;
  maxTokens: number;
  block: number;
  /** Run first and discarded: after a load, the first generation pays for page faults. */
  warmupPrompt: string;
  prompts: readonly { rep: number; prompt: string }[];
}

export interface BlockResult {
  variant: Variant;
  block: number;
  /** Direct: getLlama + loadModel + createContext. Server: startServer up to the warm-up request's first token (that request loads the model). */
  setupMs: number;
  warmup: GenerationSample;
  samples: GenerationSample[];
  cpu: BlockCpu;
}

export function decodeRate(completionTokens: number, firstToLastMs: number): number {
  return completionTokens > 1 && firstToLastMs > 0
    ? ((completionTokens - 1) * 1000) / firstToLastMs
    : Number.NaN;
}

export function sumTokens(samples: readonly GenerationSample[]): number {
  return samples.reduce((total, sample) => total + sample.completionTokens, 0);
}
