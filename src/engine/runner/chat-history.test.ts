import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../core/index.js";
import { toChatHistory } from "./chat-history.js";

const call = (id: string, name: string, args: string) => ({ id, name, arguments: args });

describe("toChatHistory", () => {
  it("ends a plain conversation with an empty model turn to generate", () => {
    const history = toChatHistory([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ]);
    expect(history).toEqual([
      { type: "system", text: "Be brief." },
      { type: "user", text: "Hi" },
      { type: "model", response: [] },
    ]);
  });

  it("pairs results with calls by tool_call_id, then tool name, then order, and continues that turn", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "Weather and time?" },
      {
        role: "assistant",
        content: "",
        toolCalls: [
          call("a", "get_weather", '{"city":"Oslo"}'),
          call("b", "get_time", "{}"),
          call("c", "f", "x"),
        ],
      },
      { role: "tool", content: "noon", toolName: "get_time" },
      { role: "tool", content: "rain", toolCallId: "a" },
      { role: "tool", content: "third" },
    ];
    const history = toChatHistory(messages);
    expect(history).toHaveLength(2);
    expect(history[1]).toEqual({
      type: "model",
      response: [
        {
          type: "functionCall",
          name: "get_weather",
          params: { city: "Oslo" },
          result: "rain",
          startsNewChunk: true,
        },
        { type: "functionCall", name: "get_time", params: {}, result: "noon" },
        { type: "functionCall", name: "f", params: "x", result: "third" },
      ],
    });
  });

  it("puts the answer after tool results in the turn that made the calls, then a new turn", () => {
    const history = toChatHistory([
      { role: "user", content: "Weather?" },
      { role: "assistant", content: "Let me look.", toolCalls: [call("a", "get_weather", "{}")] },
      { role: "tool", content: "sun", toolCallId: "a" },
      { role: "assistant", content: "Sunny." },
      { role: "user", content: "Thanks" },
    ]);
    expect(history.map((item) => item.type)).toEqual(["user", "model", "user", "model"]);
    const turn = history[1] as { response: unknown[] };
    expect(turn.response[0]).toBe("Let me look.");
    expect(turn.response.at(-1)).toBe("Sunny.");
  });

  it("shows a tool result without a call as the user's words", () => {
    expect(toChatHistory([{ role: "tool", content: "42" }])[0]).toEqual({ type: "user", text: "42" });
  });
});
