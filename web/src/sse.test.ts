import { describe, expect, it } from "vitest";
import { parseChatChunk, SseReader } from "./sse.js";

describe("SseReader", () => {
  it("returns complete events only, across chunk boundaries and CRLF line ends", () => {
    const reader = new SseReader();
    expect(reader.push('data: {"a":')).toEqual([]);
    expect(reader.push("1}\n\n: ping\n\ndata: [DO")).toEqual(['{"a":1}']);
    expect(reader.push("NE]\r\n\r\n")).toEqual(["[DONE]"]);
  });

  it("joins multi-line data fields with newlines", () => {
    expect(new SseReader().push("data: one\ndata: two\n\n")).toEqual(["one\ntwo"]);
  });
});

describe("parseChatChunk", () => {
  it("reads the delta, finish reason, usage and errors of /v1/chat/completions chunks", () => {
    expect(
      parseChatChunk('{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}'),
    ).toEqual({
      delta: "Hi",
      finishReason: null,
      usage: undefined,
      error: undefined,
    });
    expect(
      parseChatChunk(
        '{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":2}}}',
      )?.usage,
    ).toEqual({ promptTokens: 5, completionTokens: 7, cachedTokens: 2 });
    expect(parseChatChunk('{"error":{"message":"queue full"}}')?.error).toBe("queue full");
    expect(parseChatChunk("[DONE]")).toBeUndefined();
  });
});
