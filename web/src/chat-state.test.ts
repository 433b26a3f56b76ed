import { describe, expect, it } from "vitest";
import {
  appendDelta,
  chatRequestBody,
  FiguresMeter,
  finishAnswer,
  isStreaming,
  lastUserTurn,
  newConversation,
  startAnswer,
  truncateBefore,
} from "./chat-state.js";

const fresh = () => newConversation({ id: "c1", model: "stories260K", now: 1000 });

describe("a conversation", () => {
  it("streams an answer: the user's turn, deltas appended, then finished with figures", () => {
    let conversation = startAnswer(fresh(), { text: "Once upon a time\nmore", requestId: "r1", now: 2000 });
    expect(conversation.title).toBe("Once upon a time");
    expect(isStreaming(conversation)).toBe(true);
    conversation = appendDelta(appendDelta(conversation, "There"), " was");
    expect(conversation.messages.at(-1)).toMatchObject({
      role: "assistant",
      content: "There was",
      requestId: "r1",
    });
    conversation = finishAnswer(conversation, { state: "stopped", now: 3000 });
    expect(isStreaming(conversation)).toBe(false);
    expect(conversation.messages.at(-1)?.state).toBe("stopped");
    expect(conversation.updatedAt).toBe(3000);
  });

  it("builds the request: system prompt first, history without the empty answer slot, parameters", () => {
    let conversation = { ...fresh(), system: "Be brief." };
    conversation = finishAnswer(
      appendDelta(startAnswer(conversation, { text: "Hi", requestId: "r1", now: 1 }), "Hello"),
      {
        state: "done",
        now: 2,
      },
    );
    conversation = startAnswer(conversation, { text: "More", requestId: "r2", now: 3 });
    conversation = {
      ...conversation,
      parameters: { ...conversation.parameters, seed: 7, jsonMode: true, priority: "high" },
    };
    const body = chatRequestBody(conversation);
    expect(body["messages"]).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "More" },
    ]);
    expect(body).toMatchObject({
      model: "stories260K",
      stream: true,
      stream_options: { include_usage: true },
      seed: 7,
      priority: "high",
      response_format: { type: "json_object" },
      max_tokens: 256,
    });
    expect(chatRequestBody(fresh())).not.toHaveProperty("seed");
  });

  it("edit-and-resend and regenerate cut the history at the user's message", () => {
    let conversation = fresh();
    for (const text of ["first", "second"])
      conversation = finishAnswer(
        appendDelta(startAnswer(conversation, { text, requestId: text, now: 1 }), `re ${text}`),
        {
          state: "done",
          now: 2,
        },
      );
    const turn = lastUserTurn(conversation);
    expect(turn).toEqual({ index: 2, text: "second" });
    const cut = truncateBefore(conversation, turn!.index);
    expect(cut.messages.map((message) => message.content)).toEqual(["first", "re first"]);
    expect(truncateBefore(conversation, 0).messages).toEqual([]);
    expect(lastUserTurn(fresh())).toBeUndefined();
  });
});

describe("FiguresMeter", () => {
  it("measures time to first token and the decode rate from the server's token counts", () => {
    const meter = new FiguresMeter(100);
    meter.onDelta(120, "");
    meter.onDelta(150, "a");
    meter.onDelta(250, "b");
    meter.onUsage({ promptTokens: 4, completionTokens: 11, cachedTokens: 1 });
    expect(meter.figures(1150)).toEqual({
      timeToFirstTokenMs: 50,
      tokensPerSecond: 10,
      promptTokens: 4,
      cachedTokens: 1,
      completionTokens: 11,
      totalMs: 1050,
    });
  });

  it("counts deltas when the stream ends without usage (stopped), and has no rate without tokens", () => {
    const stopped = new FiguresMeter(0);
    stopped.onDelta(10, "a");
    stopped.onDelta(20, "b");
    stopped.onDelta(30, "c");
    expect(stopped.figures(30)).toMatchObject({
      completionTokens: 3,
      tokensPerSecond: 100,
      promptTokens: undefined,
    });
    expect(new FiguresMeter(0).figures(5)).toMatchObject({
      timeToFirstTokenMs: undefined,
      tokensPerSecond: undefined,
    });
  });
});
