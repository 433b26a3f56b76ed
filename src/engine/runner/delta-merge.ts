/**
 * Joins a generation's text-deltas that wait for the same IPC message into one (ADR 0039): the
 * main process then parses, schedules and writes one event per message instead of one per
 * token. `pieceLengths` keeps where each delta's text began, so writers still stream one SSE
 * event or NDJSON line per token; `tokenIds` and `tokenCount` add up. Deltas with logprobs stay
 * apart (rare, and the OpenAI writer sends each token's logprobs with its own chunk).
 */
import type { RunnerEvent } from "../protocol.js";

export function runnerEventKey(item: RunnerEvent): string {
  return item.id;
}

/** Folds `item` into `into` when both are plain text-deltas; false leaves both as they are. */
export function mergeTextDeltas(into: RunnerEvent, item: RunnerEvent): boolean {
  const joined = into.event;
  const next = item.event;
  if (joined.type !== "text-delta" || next.type !== "text-delta") return false;
  if (joined.logprobs !== undefined || next.logprobs !== undefined) return false;
  (joined.pieceLengths ??= [joined.text.length]).push(next.text.length);
  joined.text += next.text;
  joined.tokenCount += next.tokenCount;
  if (joined.tokenIds !== undefined && next.tokenIds !== undefined) joined.tokenIds.push(...next.tokenIds);
  else joined.tokenIds = undefined;
  return true;
}
