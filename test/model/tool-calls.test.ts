/**
 * Tool calling on the real engine: synthetic random-weight models carrying real chat templates
 * in their GGUF metadata. The template renders the tools and the call syntax; the grammar makes
 * whatever the weights sample a well-formed call, so `tool_choice` "required" or a named function
 * always yields a call. Round trips through the official `openai` and `ollama` clients.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticModelShapes, writeLlamaModel } from "../../src/gguf/index.js";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";

const templates = ["qwen2_5", "llama3_1", "mistral"] as const;
const templateText = (name: string) =>
  readFileSync(join(import.meta.dirname, "templates", `${name}.jinja`), "utf8");

// Enum arguments: random weights never end a free string, an enum ends after a few tokens.
const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", enum: ["Paris", "Oslo"] } },
      required: ["city"],
    },
  },
};
const timeTool = {
  type: "function" as const,
  function: { name: "get_time", description: "The time now" },
};

let test: ModelTestServer;
let openai: OpenAI;

beforeAll(async () => {
  test = await startModelServer({ "context-size": "2048", parallel: "1" });
  for (const name of templates) {
    await writeLlamaModel(join(test.modelsDir, `tools-${name}.gguf`), {
      ...syntheticModelShapes.tiny,
      contextLength: 2048,
      name: `synthetic-${name}`,
      chatTemplate: templateText(name),
    });
  }
  openai = new OpenAI({ baseURL: `${test.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 60_000);
afterAll(async () => test?.dispose());

type FunctionCall = OpenAI.Chat.ChatCompletionMessageFunctionToolCall;

describe.each(templates)("the %s template on the real engine", (name) => {
  const model = `tools-${name}`;

  it("openai: a required call, the result fed back, then a text answer", async () => {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "What is the weather in Paris?" },
    ];
    const first = await openai.chat.completions.create({
      model,
      messages,
      tools: [weatherTool, timeTool],
      tool_choice: "required",
      parallel_tool_calls: false,
      max_tokens: 64,
      temperature: 0,
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const calls = choice.message.tool_calls as FunctionCall[];
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(["get_weather", "get_time"]).toContain(call.function.name);
    const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
    if (call.function.name === "get_weather") expect(["Paris", "Oslo"]).toContain(args["city"]);
    messages.push(choice.message, { role: "tool", tool_call_id: call.id, content: '{"sky": "clear"}' });
    const second = await openai.chat.completions.create({
      model,
      messages,
      tools: [weatherTool, timeTool],
      max_tokens: 8,
      temperature: 0,
    });
    expect(["stop", "length"]).toContain(second.choices[0]!.finish_reason);
    expect(second.choices[0]!.message.tool_calls).toBeUndefined();
    expect(second.usage!.prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens);
  });

  it("openai: a named call streamed as id and name, then argument fragments", async () => {
    const stream = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Weather?" }],
      tools: [weatherTool, timeTool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      max_tokens: 64,
      temperature: 0,
      stream: true,
    });
    const deltas: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(deltas[0]!.function!.name).toBe("get_weather");
    expect(deltas[0]!.id).toBeDefined();
    // The arguments stream as the model writes them: several fragments after the id and name.
    expect(deltas.length).toBeGreaterThan(3);
    for (const delta of deltas.slice(1)) expect(delta.id).toBeUndefined();
    const text = deltas.map((delta) => delta.function?.arguments ?? "").join("");
    expect(["Paris", "Oslo"]).toContain((JSON.parse(text) as { city: string }).city);
  });

  it("ollama: a conversation with a call and its result (by tool_name) gets an answer", async () => {
    const ollama = new Ollama({ host: test.url });
    const reply = await ollama.chat({
      model,
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{ function: { name: "get_weather", arguments: { city: "Oslo" } } }],
        },
        { role: "tool", content: "rain", tool_name: "get_weather" },
      ],
      tools: [weatherTool, timeTool],
      stream: false,
      options: { num_predict: 6, temperature: 0 },
    });
    expect(reply.done).toBe(true);
    expect(reply.message.role).toBe("assistant");
    expect(reply.prompt_eval_count).toBeGreaterThan(20);
  });

  it("/api/show lists the tools capability", async () => {
    const response = await postJson(`${test.url}/api/show`, { model });
    const body = (await response.json()) as { capabilities: string[] };
    expect(body.capabilities).toEqual(["completion", "tools", "embedding"]);
  });
});

describe("parallel calls where the template has them", () => {
  it("qwen2_5: several well-formed calls in one turn when parallel_tool_calls is left on", async () => {
    const reply = await openai.chat.completions.create({
      model: "tools-qwen2_5",
      messages: [{ role: "user", content: "Weather in Paris and Oslo?" }],
      tools: [weatherTool],
      tool_choice: "required",
      max_tokens: 120,
      temperature: 0,
    });
    expect(reply.choices[0]!.finish_reason).toBe("tool_calls");
    const calls = reply.choices[0]!.message.tool_calls as FunctionCall[];
    expect(calls.length).toBeGreaterThan(1);
    expect(new Set(calls.map((call) => call.id)).size).toBe(calls.length);
    for (const call of calls) {
      expect(call.function.name).toBe("get_weather");
      expect(["Paris", "Oslo"]).toContain((JSON.parse(call.function.arguments) as { city: string }).city);
    }
  });
});

describe("parameter schemas as client libraries write them", () => {
  it("takes pydantic's anyOf, zod's $schema and strict", async () => {
    const reply = await openai.chat.completions.create({
      model: "tools-qwen2_5",
      messages: [{ role: "user", content: "Remind me" }],
      tools: [
        {
          type: "function",
          function: {
            name: "remind",
            strict: true,
            parameters: {
              $schema: "http://json-schema.org/draft-07/schema#",
              properties: { urgent: { anyOf: [{ type: "boolean" }, { type: "null" }] } },
              required: ["urgent"],
              additionalProperties: false,
            },
          },
        },
      ],
      tool_choice: "required",
      parallel_tool_calls: false,
      max_tokens: 40,
      temperature: 0,
    });
    const call = (reply.choices[0]!.message.tool_calls as FunctionCall[])[0]!;
    expect([true, false, null]).toContain(
      (JSON.parse(call.function.arguments) as { urgent: unknown }).urgent,
    );
  });
});

describe("requests tools cannot serve", () => {
  it("refuses a JSON response format with tools, and a prompt past num_ctx, with a 400", async () => {
    const json = await postJson(`${test.url}/v1/chat/completions`, {
      model: "tools-qwen2_5",
      messages: [{ role: "user", content: "x" }],
      tools: [weatherTool],
      response_format: { type: "json_object" },
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: { message: string } }).error.message).toContain(
      "cannot be combined with tools",
    );
    const long = await postJson(`${test.url}/api/chat`, {
      model: "tools-qwen2_5",
      messages: [{ role: "user", content: "x" }],
      tools: [weatherTool],
      options: { num_ctx: 64 },
      stream: false,
    });
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: string }).error).toContain("with its tool definitions");
  });
});

describe("a model without a tool-capable template", () => {
  it("answers tools with a 400 that says so, on both dialects", async () => {
    const openaiAnswer = await postJson(`${test.url}/v1/chat/completions`, {
      model: "stories260K",
      messages: [{ role: "user", content: "hi" }],
      tools: [weatherTool],
    });
    expect(openaiAnswer.status).toBe(400);
    const body = (await openaiAnswer.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("tools-not-supported");
    expect(body.error.message).toContain("its chat template has no tool calling");
    const ollamaAnswer = await postJson(`${test.url}/api/chat`, {
      model: "stories260K",
      messages: [{ role: "user", content: "hi" }],
      tools: [weatherTool],
      stream: false,
    });
    expect(ollamaAnswer.status).toBe(400);
    const show = await postJson(`${test.url}/api/show`, { model: "stories260K" });
    expect(((await show.json()) as { capabilities: string[] }).capabilities).toEqual([
      "completion",
      "embedding",
    ]);
  });
});
