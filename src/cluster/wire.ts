/**
 * What crosses node boundaries in the cluster, as plain JSON: the BullMQ job of one generation,
 * the claim a worker publishes when it takes a job, the cancel message, the body the origin
 * sends to the running node, and the NDJSON frames of the node-to-node stream. Redis names
 * (queues, channels, keys) are built here only.
 */
import {
  AppError,
  errorCodes,
  type ErrorCode,
  type GenerateRequest,
  type Priority,
  type ResumeState,
  type StreamEvent,
} from "../core/index.js";

/** The job of one generation on a model's queue. */
export interface GenerateJobData {
  request: GenerateRequest;
  originNodeId: string;
  originUrl: string;
}

/** A worker took the job: the origin connects to `url` to run it. */
export interface ClaimMessage {
  requestId: string;
  nodeId: string;
  url: string;
}

/** `DELETE /v1/requests/{id}` on some node: the origin (queued) or the running node acts. */
export interface CancelMessage {
  requestId: string;
}

/** Placement chose `nodeId` to load `model`: it preloads and starts that model's worker. */
export interface LoadMessage {
  nodeId: string;
  model: string;
}

/** The origin's body to POST /internal/cluster/requests/{id}/run. */
export interface RunBody {
  resume?: ResumeState | undefined;
}

/** An error as it crosses between nodes (a run's last frame, a holder call's answer). */
export interface WireError {
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number | undefined;
}

/** One NDJSON line of the node-to-node stream: an event, or the error that ended it. */
export type RunFrame = { event: StreamEvent } | { error: WireError };

export const channels = {
  claim: "rawrxd:cluster:claim",
  cancel: "rawrxd:cluster:cancel",
  load: "rawrxd:cluster:load",
} as const;

/** Which model (and origin) a request admitted into the cluster belongs to, while it lives. */
export const requestKey = (requestId: string): string => `rawrxd:request:${requestId}`;

/** The secret header of the internal routes. */
export const clusterSecretHeader = "x-rawrxd-cluster-secret";

export const runPath = (requestId: string): string =>
  `/internal/cluster/requests/${encodeURIComponent(requestId)}/run`;

/** BullMQ refuses ":" in queue names: model names are percent-encoded (":" too). */
export function queueNameOf(model: string): string {
  return `rawrxd-model-${encodeURIComponent(model).replace(/[:!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** BullMQ refuses integer and ":"-containing custom ids: a prefix and percent-encoding. */
export function jobIdOf(requestId: string): string {
  return `r-${encodeURIComponent(requestId).replace(/:/g, "%3A")}`;
}

/** BullMQ: a lower number runs first; 0 would mean "no priority" (a separate FIFO list). */
export const bullPriority: Record<Priority, number> = { high: 1, normal: 2, low: 3 };

/**
 * `error` on the wire. `redact` (the sending node's path redactor) keeps its server paths from the
 * receiving node, whose own redactor knows only its own folders.
 */
export function errorFrame(
  error: AppError,
  redact: (message: string) => string = (message) => message,
): { error: WireError } {
  return {
    error: {
      code: error.code,
      message: redact(error.message),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    },
  };
}

export function frameError(frame: { error: WireError }): AppError {
  const code = (errorCodes as readonly string[]).includes(frame.error.code) ? frame.error.code : "internal";
  return new AppError(
    code,
    frame.error.message,
    frame.error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: frame.error.retryAfterSeconds },
  );
}

/** Splits an NDJSON byte stream into parsed frames. */
export async function* readFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<RunFrame> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim().length > 0) yield JSON.parse(line) as RunFrame;
      newline = buffered.indexOf("\n");
    }
  }
}
