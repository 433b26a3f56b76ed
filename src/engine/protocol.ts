/**
 * The typed IPC protocol between the main process and a runner process (one per model).
 * Flow control is credit based: the runner sends at most `credits` token messages for a
 * generation until the main process grants more, so a slow client pauses generation.
 */
import type {
  EmbedResult,
  GenerateEvent,
  GenerateRequest,
  TextFrameTemplate,
  TokenizerRequest,
  TokenizerResult,
} from "../core/index.js";
import type { ModelMemoryShape } from "../gpu/index.js";
import type { GpuChoice, LoadedModelInfo, RunnerTuning } from "./contract.js";

/**
 * Token events a runner may send ahead of the consumer, per generation. The main process grants
 * credit back in halves of this: one IPC message (a runner wake-up) per 32 tokens consumed. 64
 * since ADR 0043 (32 before): each credit message cost the main process a send and the runner a
 * wake-up; 64 tokens ahead of a client that stopped reading is still a small bound.
 */
export const initialCredits = 64;

/**
 * Generation events closer together than this share one IPC message (--stream-coalesce-ms;
 * runner/stream-coalescer.ts). The first event after a quiet window is never delayed. 50 ms
 * (20 messages a second at most; 16 until ADR 0039): a 134M-class model's ~8 tokens per message,
 * which the main process's ~0.3-0.5 ms per wake-up and socket write needs to stay near 0.05 ms
 * per token; 32 tokens waiting go at once anyway (credit), so fast models are not held.
 */
export const defaultStreamCoalesceMs = 50;
/** Events per IPC message at most. */
export const maxEventsPerMessage = 64;

/** One generation's event inside an `events` message. */
export interface RunnerEvent {
  id: string;
  event: GenerateEvent;
}

export interface RunnerLoadOptions {
  modelPath: string;
  /** From the header the main process validated: the runner never parses the file itself. */
  shape: ModelMemoryShape;
  contextTokens: number;
  parallel: number;
  threads: number;
  gpu: GpuChoice;
  tuning?: RunnerTuning | undefined;
}

export type MainToRunner =
  | { type: "load"; options: RunnerLoadOptions }
  | { type: "generate"; id: string; request: GenerateRequest }
  | { type: "credit"; id: string; credits: number }
  /**
   * Sent with the client's socket (ADR 0056): write this generation's plain text frames on it
   * yourself, if you have sent exactly `afterEvents` of its events. Answered by `lend-answer`.
   */
  | { type: "lend"; id: string; afterEvents: number; template: TextFrameTemplate }
  | { type: "cancel"; id: string }
  /** Stop the generation and answer with a `preempted` event carrying its resume state. */
  | { type: "preempt"; id: string }
  | { type: "embed"; id: string; inputs: string[] }
  | { type: "tokenize"; id: string; text: string }
  | { type: "tokenizer"; id: string; request: TokenizerRequest }
  | { type: "ping"; id: string }
  | { type: "dispose" };

/** The runner's answer to `load`: everything in LoadedModelInfo that the runner itself knows. */
export type LoadedMessage = { type: "loaded" } & Omit<LoadedModelInfo, "pid">;

export interface RunnerErrorPayload {
  code: string;
  message: string;
}

export type RunnerToMain =
  | LoadedMessage
  | { type: "load-error"; error: RunnerErrorPayload }
  /** Generation events in the order they happened, possibly of several generations. */
  | { type: "events"; events: readonly RunnerEvent[] }
  | { type: "error"; id: string; error: RunnerErrorPayload }
  | { type: "embedded"; id: string; result: EmbedResult }
  | { type: "tokenized"; id: string; tokens: number[] }
  | { type: "tokenizer-result"; id: string; result: TokenizerResult }
  | { type: "pong"; id: string }
  /** Whether the runner took the socket of `lend`; the generation's next event comes after its last frame. */
  | { type: "lend-answer"; id: string; isAccepted: boolean }
  /**
   * While lent: a chunk is partly written (the client's buffer is full) or all are whole again.
   * Only then, not per chunk. A runner that dies while partial leaves a connection that cannot
   * take an error frame.
   */
  | { type: "lend-partial"; id: string; isPartial: boolean }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; message: string };
