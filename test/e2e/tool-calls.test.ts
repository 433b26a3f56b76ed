/**
 * Tool calling end to end on FakeEngine: OpenAI `tools` / `tool_choice` and Ollama `tools`
 * through the official clients, streaming and not — request with tools, tool calls back, the
 * tool result sent, a final answer — plus the 400 for a model that cannot call tools.
 */
import OpenAI from "openai";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, readSse, sseJson, startTestServer, type Json, type TestServer } from "./helpers.js";

let test: TestServer;
let url: string;

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};
const timeTool = {
  type: "function" as const,
  function: { name: "get_time", description: "The time", parameters: { type: "object", properties: {} } },
};

beforeAll(async () => {
  test = await startTestServer({
    models: {
      agent: {
        reply: "It is sunny in Paris.",
        toolCalls: [
          { name: "get_weather", arguments: { city: "Paris and its long suburbs" } },
          { name: "get_time" },
        ],
      },
      plain: { reply: "I only talk." },
    },
  });
  url = test.url;
});

afterAll(async () => {
  await test.dispose();
});

describe("OpenAI tool calls", () => {
  const client = () => new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });

  it("round-trips a call without streaming: tool_calls, then the result, then an answer", async () => {
    const openai = client();
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "Weather in Paris?" },
    ];
    const first = await openai.chat.completions.create({
      model: "agent",
      messages,
      tools: [weatherTool, timeTool],
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls!;
    expect(calls.map((call) => call.type === "function" && call.function.name)).toEqual([
      "get_weather",
      "get_time",
    ]);
    const call = calls[0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris and its long suburbs" });
    expect(new Set(calls.map((each) => each.id)).size).toBe(2);
    messages.push(choice.message, { role: "tool", tool_call_id: call.id, content: "sunny" });
    const second = await openai.chat.completions.create({ model: "agent", messages, tools: [weatherTool] });
    expect(second.choices[0]!.finish_reason).toBe("stop");
    expect(second.choices[0]!.message.content).toBe("It is sunny in Paris.");
  });

  it("streams id and name first, then the arguments in fragments", async () => {
    const stream = await client().chat.completions.create({
      model: "agent",
      messages: [{ role: "user", content: "Weather?" }],
      tools: [weatherTool],
      stream: true,
    });
    const deltas: Json[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) deltas.push(delta);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(deltas[0]).toMatchObject({
      index: 0,
      type: "function",
      function: { name: "get_weather", arguments: "" },
    });
    expect(deltas[0].id).toMatch(/^call_/);
    expect(deltas.length).toBeGreaterThan(2);
    for (const delta of deltas.slice(1)) expect(delta.id).toBeUndefined();
    const text = deltas.map((delta) => delta.function.arguments as string).join("");
    expect(JSON.parse(text)).toEqual({ city: "Paris and its long suburbs" });
  });

  it("honours parallel_tool_calls: false and a named tool_choice", async () => {
    const single = await client().chat.completions.create({
      model: "agent",
      messages: [{ role: "user", content: "Both?" }],
      tools: [weatherTool, timeTool],
      parallel_tool_calls: false,
    });
    expect(single.choices[0]!.message.tool_calls).toHaveLength(1);
    const named = await client().chat.completions.create({
      model: "agent",
      messages: [{ role: "user", content: "Time?" }],
      tools: [weatherTool, timeTool],
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    const calls = named.choices[0]!.message.tool_calls as OpenAI.Chat.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((call) => call.function.name)).toEqual(["get_time"]);
  });

  it("answers in text with tool_choice none", async () => {
    const reply = await client().chat.completions.create({
      model: "agent",
      messages: [{ role: "user", content: "Weather?" }],
      tools: [weatherTool],
      tool_choice: "none",
    });
    expect(reply.choices[0]!.finish_reason).toBe("stop");
    expect(reply.choices[0]!.message.tool_calls).toBeUndefined();
  });

  it("refuses tools for a model that cannot call them, with a 400 that says so", async () => {
    const response = await postJson(`${url}/v1/chat/completions`, {
      model: "plain",
      messages: [{ role: "user", content: "hi" }],
      tools: [weatherTool],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as Json;
    expect(body.error.code).toBe("tools-not-supported");
    expect(body.error.message).toContain('"plain" cannot call tools');
  });

  it("accepts Cline's request shape (stream, include_usage, tool_choice auto, parallel_tool_calls false)", async () => {
    const response = await postJson(`${url}/v1/chat/completions`, {
      model: "agent",
      messages: [
        { role: "system", content: "You are Cline." },
        { role: "user", content: "go" },
      ],
      stream: true,
      stream_options: { include_usage: true },
      tools: [weatherTool, timeTool],
      tool_choice: "auto",
      parallel_tool_calls: false,
    });
    expect(response.status).toBe(200);
    const chunks = sseJson(await readSse(response));
    const reasons: unknown[] = chunks.map((chunk) => chunk.choices[0]?.finish_reason as unknown);
    expect(reasons.filter((reason) => typeof reason === "string")).toEqual(["tool_calls"]);
    const last = chunks.at(-1) as { usage: { completion_tokens: number } };
    expect(last.usage.completion_tokens).toBe(1);
  });
});

describe("Ollama tool calls", () => {
  const client = () => new Ollama({ host: url });

  it("round-trips a call without streaming, arguments as an object, the result by tool_name", async () => {
    const ollama = client();
    const messages: Json[] = [{ role: "user", content: "Weather in Paris?" }];
    const first = await ollama.chat({
      model: "agent",
      messages,
      tools: [weatherTool, timeTool],
      stream: false,
    });
    expect(first.done_reason).toBe("stop");
    const calls = first.message.tool_calls!;
    expect(calls.map((call) => call.function.name)).toEqual(["get_weather", "get_time"]);
    expect(calls[0]!.function.arguments).toEqual({ city: "Paris and its long suburbs" });
    messages.push(first.message, { role: "tool", tool_name: "get_weather", content: "sunny" });
    const second = await ollama.chat({ model: "agent", messages, tools: [weatherTool], stream: false });
    expect(second.message.content).toBe("It is sunny in Paris.");
    expect(second.message.tool_calls).toBeUndefined();
  });

  it("streams each call in a message of its own", async () => {
    const stream = await client().chat({
      model: "agent",
      messages: [{ role: "user", content: "Weather?" }],
      tools: [weatherTool, timeTool],
      stream: true,
    });
    const names: string[] = [];
    let done = false;
    for await (const part of stream) {
      for (const call of part.message.tool_calls ?? []) names.push(call.function.name);
      done = part.done;
    }
    expect(names).toEqual(["get_weather", "get_time"]);
    expect(done).toBe(true);
  });

  it("refuses tools for a model that cannot call them", async () => {
    const response = await postJson(`${url}/api/chat`, {
      model: "plain",
      messages: [{ role: "user", content: "hi" }],
      tools: [weatherTool],
      stream: false,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Json).error).toContain("cannot call tools");
  });
});
