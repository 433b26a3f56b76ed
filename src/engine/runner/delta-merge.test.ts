import { describe, expect, it } from "vitest";
import { FakeTime, forEachTextPiece, joinedDeltas, type GenerateEvent } from "../../core/index.js";
import type { RunnerEvent } from "../protocol.js";
import { mergeTextDeltas, runnerEventKey } from "./delta-merge.js";
import { StreamCoalescer } from "./stream-coalescer.js";

const delta = (id: string, text: string, tokenIds: number[]): RunnerEvent => ({
  id,
  event: { type: "text-delta", text, tokenCount: tokenIds.length, tokenIds },
});

function coalescer() {
  const time = new FakeTime();
  const sent: RunnerEvent[][] = [];
  const events = new StreamCoalescer<RunnerEvent>({
    windowMs: 16,
    maxItems: 64,
    time,
    keyOf: runnerEventKey,
    merge: mergeTextDeltas,
    send: (items) => sent.push(structuredClone([...items])),
  });
  return { time, sent, events };
}

const pieces = (event: GenerateEvent): string[] => {
  const found: string[] = [];
  if (event.type === "text-delta") forEachTextPiece(event, (piece) => found.push(piece));
  return found;
};

describe("text-deltas joined while they wait for one runner message", () => {
  it("become one event per generation that keeps each delta's text as a piece", () => {
    const { time, sent, events } = coalescer();
    events.push(delta("a", "Once", [10]));
    events.push(delta("a", " upon", [11]));
    events.push(delta("b", "The", [20]));
    events.push(delta("a", "", [12]));
    events.push(delta("a", " a", [13, 14]));
    events.push(delta("b", " dog", [21]));
    time.advance(16);
    expect(sent).toHaveLength(2);
    const [joinedA, joinedB] = sent[1]!;
    expect(joinedA).toEqual({
      id: "a",
      event: {
        type: "text-delta",
        text: " upon a",
        tokenCount: 4,
        tokenIds: [11, 12, 13, 14],
        pieceLengths: [5, 0, 2],
      },
    });
    expect(pieces(joinedA!.event)).toEqual([" upon", " a"]);
    expect(joinedA!.event.type === "text-delta" && joinedDeltas(joinedA!.event)).toBe(3);
    expect(joinedB!.event).toMatchObject({ text: "The dog", tokenIds: [20, 21], pieceLengths: [3, 4] });
  });

  it("never reorders a generation's events: an end or a delta with logprobs is not joined over", () => {
    const { time, sent, events } = coalescer();
    events.push(delta("a", "x", [1]));
    events.push(delta("a", "y", [2]));
    events.push({
      id: "a",
      event: { type: "text-delta", text: "z", tokenCount: 1, tokenIds: [3], logprobs: [] },
    });
    events.push(delta("a", "w", [4]));
    events.pushUrgent({
      id: "a",
      event: {
        type: "end",
        reason: "stop",
        usage: { promptTokens: 1, completionTokens: 4, cachedTokens: 0 },
        timings: { loadMs: 0, promptMs: 0, decodeMs: 0 },
      },
    });
    time.advance(16);
    expect(sent[1]!.map(({ event }) => (event.type === "text-delta" ? event.text : event.type))).toEqual([
      "y",
      "z",
      "w",
      "end",
    ]);
  });

  it("a single delta has no pieces: writers take its whole text", () => {
    const only = delta("a", "hello", [5]).event;
    expect(pieces(only)).toEqual(["hello"]);
    expect(only.type === "text-delta" && joinedDeltas(only)).toBe(1);
  });
});
