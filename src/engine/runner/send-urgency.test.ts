import { describe, expect, it } from "vitest";
import type { GenerateEvent } from "../../core/index.js";
import { SendUrgency } from "./send-urgency.js";

const text: GenerateEvent = { type: "text-delta", text: "a", tokenCount: 1, tokenIds: [1] };
const progress: GenerateEvent = { type: "progress", processedTokens: 1, totalTokens: 2, cachedTokens: 0 };
const end: GenerateEvent = {
  type: "end",
  reason: "stop",
  usage: { promptTokens: 1, completionTokens: 1, cachedTokens: 0 },
  timings: { loadMs: 0, promptMs: 0, decodeMs: 0 },
};

describe("SendUrgency", () => {
  it("sends the first text at once, and a text that makes 16 wait unsent (a fast model)", () => {
    const urgency = new SendUrgency(16);
    const urgentTexts: number[] = [];
    // Credit comes back in time: 32 in the window, never below 16 left; only urgent texts send.
    for (let index = 1; index <= 48; index++) {
      if (urgency.isUrgent(text, 16 + (index % 16))) {
        urgentTexts.push(index);
        urgency.markSent();
      }
    }
    expect(urgentTexts).toEqual([1, 17, 33]);
  });

  it("lets the window send a slower model's texts: no text is urgent while fewer than 16 wait", () => {
    const urgency = new SendUrgency(16);
    const urgentTexts: number[] = [];
    // The coalescer's window sends every 6 texts (a 134M model's ~8 ms a token, 50 ms window).
    for (let index = 1; index <= 64; index++) {
      if (urgency.isUrgent(text, 16 + (index % 16))) urgentTexts.push(index);
      if (index % 6 === 0) urgency.markSent();
    }
    expect(urgentTexts).toEqual([1]);
  });

  it("sends a text at once when it leaves at most one credit (the run waits for credit next)", () => {
    const urgency = new SendUrgency(16);
    urgency.isUrgent(text, 31);
    expect(urgency.isUrgent(text, 2)).toBe(false);
    expect(urgency.isUrgent(text, 1)).toBe(true);
    expect(urgency.isUrgent(text, 0)).toBe(true);
  });

  it("sends the end at once, progress with the window", () => {
    const urgency = new SendUrgency(16);
    expect(urgency.isUrgent(progress, 32)).toBe(false);
    expect(urgency.isUrgent(end, 32)).toBe(true);
  });
});
