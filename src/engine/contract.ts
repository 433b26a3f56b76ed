/**
 * The engine contract (STYLE.md §2): what the scheduler needs from whatever runs a model.
 * LlamaCppEngine runs one child process per model; FakeEngine runs in-process for tests.
 */
import type {
  EmbedResult,
  GenerateEvent,
  GenerateRequest,
  TextFrameTemplate,
  TokenizerRequest,
  TokenizerResult,
} from "../core/index.js";
import type { Socket } from "node:net";
import type { ModelMemoryShape, ModelPlanReport } from "../gpu/index.js";

export type GpuChoice = "auto" | "cuda" | "vulkan" | "cpu";

/** Offload and thread tuning from the operator's settings; absent = the runner's defaults. */
export type EngineBuildChoice = "auto" | "prebuilt" | "openmp";

/** --speculative (docs/decisions/0031). */
export type SpeculativeMode = "auto" | "off" | "input-lookup";
export const speculativeModes: readonly SpeculativeMode[] = ["auto", "off", "input-lookup"];

export interface RunnerTuning {
  /** The operator's --gpu. With "auto", a GPU backend that fails in the runner falls back to the CPU. */
  requestedGpu: GpuChoice;
  /** --gpu-layers: "auto" lets the offload planner choose. */
  gpuLayers: number | "auto";
  /** --gpu-margin in bytes; -1 = defaultDeviceMarginBytes. */
  gpuMarginBytes: number;
  /** Folder for the per-model, per-machine thread calibration cache; undefined = do not cache. */
  cacheDirectory: string | undefined;
  /** --engine-build: which CPU build of llama.cpp to load. Default "prebuilt". */
  engineBuild?: EngineBuildChoice;
  /** --flash-attention: "auto" (default) turns it off for narrow heads on the CPU (runner/flash-attention.ts). */
  flashAttention?: "auto" | "on" | "off" | undefined;
  /** --stream-coalesce-ms: generation events closer than this share an IPC message; 0 = one each. Default 4. */
  streamCoalesceMs?: number | undefined;
  /** --prompt-cache: folder of persisted prompt-prefix states; undefined or "" = off. */
  promptCacheDirectory?: string | undefined;
  /** --prompt-cache-size in bytes, per model and context setting. */
  promptCacheMaxBytes?: number | undefined;
  /** Bytes preempted generations' saved KV states may take; default 2 GiB; 0 = never save (resumes re-evaluate). For tests and benchmarks. */
  preemptedStateMaxBytes?: number | undefined;
  /**
   * --speculative: "auto" drafts by prompt lookup for greedy requests and stops while drafts are
   * refuted; "input-lookup" drafts for every request, always; "off" never. Default "auto".
   */
  speculative?: SpeculativeMode | undefined;
  /**
   * --draft-model: the draft model speculative decoding runs beside each model (same runner,
   * same thread budget; docs/decisions/0041). The main process resolved it and checked that its
   * vocabulary equals the target's before the load.
   */
  draftModel?: { name: string; path: string } | undefined;
  /** Thread counts --threads auto measures; default 1, half the cores, all but one. For benchmarks and tests. */
  threadCandidates?: number[] | undefined;
  /** What thread calibration reads as the machine's load: "system" (/proc, default), or fixed "quiet" / "busy" readings for tests. */
  loadProbe?: "system" | "quiet" | "busy" | undefined;
}

export interface LoadSpec {
  /** Model name (file name without .gguf), for messages and events. */
  name: string;
  path: string;
  /** Context tokens per sequence; capped at the model's training context. */
  contextTokens: number;
  /** Sequences in the model's context: concurrent generations. */
  parallel: number;
  /** CPU threads; 0 = choose by calibration (cached per model file and machine). */
  threads: number;
  /** The backend to run on (detection's choice, or "auto" to let the engine pick). */
  gpu: GpuChoice;
  tuning?: RunnerTuning | undefined;
  /**
   * The header facts the runner plans with, from the main process's validated header (the
   * catalog's); when absent, RunnerProcess reads the header before starting the runner.
   */
  shape?: ModelMemoryShape | undefined;
  /** A load that takes longer is stopped and fails with model-load-failed. */
  loadTimeoutMs: number;
}

export interface LoadedModelInfo {
  contextTokens: number;
  parallel: number;
  trainContextTokens: number;
  threads: number;
  /** "cpu" or the GPU backend node-llama-cpp chose. */
  backend: string;
  /** How chats are rendered: the model's own template, or RawrXD's plain fallback. */
  chatTemplate: "model" | "plain-fallback";
  /** Process id of the runner; undefined for in-process engines. */
  pid: number | undefined;
  /** Memory the engine reserved for weights and context, in bytes. */
  memoryBytes: number;
  /** The runner's plan (backend, GPU layers, threads, memory estimate vs resident memory); real engines only. */
  plan?: ModelPlanReport | undefined;
}

export interface RunnerExit {
  /** True when the runner was disposed on purpose. */
  expected: boolean;
  detail: string;
}

export interface ModelRunner {
  readonly name: string;
  readonly info: LoadedModelInfo;
  /**
   * Streams one generation. Pull-based: the runner pauses when the consumer stops pulling
   * (backpressure), and `signal` cancels within one token.
   */
  generate(request: GenerateRequest, signal: AbortSignal): AsyncIterable<GenerateEvent>;
  /**
   * Stops a running generation so its sequence can serve a more urgent request: its stream
   * ends with a `preempted` event carrying the state to resume from. No-op when not running.
   */
  preempt(requestId: string): void;
  embed(inputs: string[], signal: AbortSignal): Promise<EmbedResult>;
  /** Tokenizes, detokenizes or renders a chat with the model's vocabulary and template; takes no sequence. */
  tokenizer(request: TokenizerRequest, signal: AbortSignal): Promise<TokenizerResult>;
  /**
   * Optional (runner processes only; ADR 0056): lends the client's socket to the generation
   * `requestId` so that it writes its plain text frames (`template`, as HTTP/1.1 chunks) itself.
   * Ask only when every event received so far is written and the socket's buffer is empty.
   * Resolves to undefined when declined (try again after a later event), else to the lend:
   * `returned` settles once the runner wrote its last frame and let the socket go (before the
   * generation's next event arrives); only then may the caller write to the socket again.
   */
  lend?(requestId: string, socket: Socket, template: TextFrameTemplate): Promise<StreamLend | undefined>;
  /** Settles when the runner is gone, whether disposed or crashed. */
  readonly exited: Promise<RunnerExit>;
  readonly isAlive: boolean;
  /** Ends the runner; in-flight generations fail. Idempotent. */
  dispose(): Promise<void>;
}

/** An accepted lend of a client's socket (ModelRunner.lend). */
export interface StreamLend {
  /** Settles when the socket is the caller's again; after a runner crash the socket is destroyed by then. */
  returned: Promise<void>;
}

export interface InferenceEngine {
  load(spec: LoadSpec, signal?: AbortSignal): Promise<ModelRunner>;
}
