/** The plan a runner loaded a model with, and what it measured: reported in LoadedModelInfo and GET /v1/gpu. */
import type { EngineBackend } from "./gpu-report.js";
import type { ModelMemoryEstimate } from "./model-memory.js";
import type { OffloadKind } from "./offload-plan.js";

export type ThreadSource = "flag" | "calibrated" | "cached" | "rule";

export interface ThreadSample {
  threads: number;
  /** Best single-stream decode rate seen for this count during calibration. */
  tokensPerSecond: number;
}

export interface ThreadChoice {
  /** Threads for single-token decoding (streaming). */
  threads: number;
  /** Threads for prompt chunks (prefill and the first token). */
  batchThreads: number;
  /** flag: --threads N; calibrated: measured now; cached: measured before on this machine; rule: nothing to measure. */
  source: ThreadSource;
  /** Decode rates per count; empty when there was one candidate. */
  samples: ThreadSample[];
  /** Prompt-evaluation rates per count. */
  batchSamples: ThreadSample[];
  detail: string;
}

/** node-llama-cpp's own estimate (its v2 estimators, run in the runner on the loaded model). */
export interface EngineEstimate {
  modelRamBytes: number;
  modelVramBytes: number;
  contextRamBytes: number;
  contextVramBytes: number;
}

export interface MeasuredMemory {
  /** Runner RSS before the model was loaded (Node, the engine's libraries). */
  baselineResidentBytes: number;
  /** Runner RSS once the model and its context were created. */
  loadedResidentBytes: number;
  /** loaded − baseline: what the model itself made resident; compare with estimate.residentBytes. */
  modelResidentBytes: number;
  /** The RssAnon part of modelResidentBytes: heap, KV cache, buffers. */
  modelAnonymousBytes: number;
  /** The RssFile part of modelResidentBytes: the mmap'd weights paged in so far. */
  modelFileBytes: number;
}

export interface ModelPlanReport {
  backend: EngineBackend;
  /** "prebuilt", or "localBuild" for an opt-in local (e.g. OpenMP) build. */
  engineBuild: string;
  gpuLayers: number;
  totalLayers: number;
  offload: OffloadKind;
  reason: string;
  warning: string | undefined;
  threads: ThreadChoice;
  contextTokens: number;
  sequences: number;
  batchTokens: number;
  /** The context's flash attention option and why (runner/flash-attention.ts); absent for fakes. */
  flashAttention?: { option: boolean | "auto"; reason: string } | undefined;
  marginBytes: number;
  estimate: ModelMemoryEstimate;
  engineEstimate: EngineEstimate | undefined;
  /** Undefined where /proc is not available. */
  measured: MeasuredMemory | undefined;
  loadMs: number;
}
