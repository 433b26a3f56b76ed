/**
 * Request parameters are honoured, refused with a 400 that names them, or accepted and ignored
 * for a stated reason, never silently dropped when they would change the answer (issue #10,
 * item 7; the table is README "Request parameters"). What real clients send by default
 * (Continue, Cline, the openai SDK, ollama-js) is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf, postJson, startTestServer, type Json, type TestServer } from "./helpers.js";

let test: TestServer;

beforeAll(async () => {
  // toolCalls: [] — a model that can call tools but answers these requests in text.
  test = await startTestServer({ models: { alpha: { reply: "one two three", toolCalls: [] } } });
});

afterAll(async () => {
  await test.dispose();
});

const chat = { model: "alpha", messages: [{ role: "user", content: "hi" }] };
const completion = { model: "alpha", prompt: "hi" };
const generate = { model: "alpha", prompt: "hi", stream: false };
const ollamaChat = { ...chat, stream: false };

async function post(path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const response = await postJson(`${test.url}${path}`, body);
  return { status: response.status, body: await bodyOf(response) };
}

describe("refused parameters name themselves in a 400", () => {
  it.each([
    ["/v1/chat/completions", { ...chat, logprobs: "yes" }, "logprobs"],
    ["/v1/chat/completions", { ...chat, logprobs: true, top_logprobs: 21 }, "top_logprobs"],
    ["/v1/chat/completions", { ...chat, logit_bias: { "50256": -100 } }, "logit_bias"],
    ["/v1/chat/completions", { ...chat, n: 2 }, "n"],
    ["/v1/chat/completions", { ...chat, tool_choice: "required" }, "tool_choice"],
    [
      "/v1/chat/completions",
      { ...chat, tool_choice: { type: "function", function: { name: "f" } } },
      "tool_choice",
    ],
    ["/v1/chat/completions", { ...chat, function_call: { name: "f" } }, "function_call"],
    ["/v1/chat/completions", { ...chat, modalities: ["text", "audio"] }, "modalities.1"],
    ["/v1/chat/completions", { ...chat, audio: { voice: "alloy", format: "wav" } }, "audio"],
    ["/v1/chat/completions", { ...chat, web_search_options: {} }, "web_search_options"],
    ["/v1/completions", { ...completion, logprobs: 6 }, "logprobs"],
    ["/v1/completions", { ...completion, best_of: 3 }, "best_of"],
    ["/v1/completions", { ...completion, logit_bias: { "1": 5 } }, "logit_bias"],
    ["/v1/embeddings", { model: "alpha", input: "x", dimensions: 256 }, "dimensions"],
  ])("OpenAI %s %j → 400 naming %s", async (path, body, param) => {
    const answer = await post(path, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.param).toBe(param);
    expect(answer.body.error.message).toContain(`"${param}"`);
  });

  it.each([
    ["/api/generate", { ...generate, template: "{{ .Prompt }}" }, "template"],
    ["/api/generate", { ...generate, context: [1, 2, 3] }, "context"],
    ["/api/generate", { ...generate, think: true }, "think"],
    ["/api/chat", { ...ollamaChat, think: "high" }, "think"],
    ["/api/generate", { ...generate, logprobs: true }, "logprobs"],
    ["/api/chat", { ...ollamaChat, top_logprobs: 2 }, "top_logprobs"],
    ["/api/generate", { ...generate, options: { mirostat: 2 } }, "options.mirostat"],
    ["/api/chat", { ...ollamaChat, options: { typical_p: 0.5 } }, "options.typical_p"],
    ["/api/generate", { ...generate, options: { tfs_z: 0.9 } }, "options.tfs_z"],
    ["/api/embed", { model: "alpha", input: "x", dimensions: 128 }, "dimensions"],
  ])("Ollama %s %j → 400 naming %s", async (path, body, param) => {
    const answer = await post(path, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toContain(`"${param}"`);
  });
});

describe("what clients send by default is accepted", () => {
  it("Cline's OpenAI chat body: stream_options, tools, tool_choice auto, parallel_tool_calls", async () => {
    const answer = await post("/v1/chat/completions", {
      ...chat,
      stream_options: { include_usage: true },
      tools: [{ type: "function", function: { name: "read_file", parameters: { type: "object" } } }],
      tool_choice: "auto",
      parallel_tool_calls: false,
      user: "someone",
      store: false,
      metadata: { a: "b" },
      logprobs: false,
      logit_bias: {},
      n: 1,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.choices[0].message.content).toBe("one two three");
  });

  it("Continue's Ollama FIM-less generate and Cline's chat with num_ctx 32768 and keep_alive", async () => {
    const generated = await post("/api/generate", {
      ...generate,
      raw: true,
      keep_alive: 1800,
      options: { temperature: 0.01, num_predict: 4096, stop: ["\n\n"], num_ctx: 8192 },
    });
    expect(generated.status).toBe(200);
    const chatted = await post("/api/chat", {
      ...ollamaChat,
      tools: [{ type: "function", function: { name: "f" } }],
      think: false,
      options: { num_ctx: 32768, num_thread: 4, num_gpu: 99, use_mmap: true, mirostat: 0, typical_p: 1 },
    });
    expect(chatted.status).toBe(200);
    expect(chatted.body.message.content).toBe("one two three");
  });

  it("embeddings with the fields the openai SDK and ollama-js send", async () => {
    expect(
      (await post("/v1/embeddings", { model: "alpha", input: "x", encoding_format: "float" })).status,
    ).toBe(200);
    expect((await post("/api/embed", { model: "alpha", input: ["x"], truncate: true })).status).toBe(200);
  });
});
