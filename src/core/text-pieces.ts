/**
 * The per-token pieces of a text-delta that the runner joined with its neighbours (ADR 0039),
 * for writers that stream one SSE event or NDJSON line per piece.
 */
import type { GenerateEvent } from "./inference.js";

type TextDelta = Extract<GenerateEvent, { type: "text-delta" }>;

/** Calls `each` with every non-empty piece of `delta`'s text, in order. */
export function forEachTextPiece(delta: TextDelta, each: (piece: string) => void): void {
  const lengths = delta.pieceLengths;
  if (lengths === undefined) {
    if (delta.text.length > 0) each(delta.text);
    return;
  }
  let start = 0;
  for (const length of lengths) {
    if (length > 0) each(delta.text.slice(start, start + length));
    start += length;
  }
}

/** How many of the runner's deltas `delta` stands for (what flow control counts). */
export function joinedDeltas(delta: TextDelta): number {
  return delta.pieceLengths?.length ?? 1;
}
