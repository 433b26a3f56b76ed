/**
 * The official `openai` and `ollama` npm clients against the real engine: streaming chat,
 * streaming generate, embeddings, JSON output, prompt reuse and over-long prompts.
 */
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";

describe("official clients on the real engine", () => {
  let test: ModelTestServer;
  let openai: OpenAI;
  let ollama: Ollama;

  beforeAll(async () => {
    test = await startModelServer();
    openai = new OpenAI({ baseURL: `${test.url}/v1`, apiKey: "unused", maxRetries: 0 });
    ollama = new Ollama({ host: test.url });
  });
  afterAll(async () => test.dispose());

  it("openai streams a chat completion token by token", async () => {
    const stream = await openai.chat.completions.create({
      model: "stories260K",
      messages: [{ role: "user", content: "Tell me a story about a cat." }],
      max_tokens: 40,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.join("")).toMatch(/[A-Za-z]{3,}/);
    expect(["stop", "length"]).toContain(finish);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.prompt_tokens).toBeGreaterThan(5);
  });

  it("ollama streams a generate", async () => {
    const stream = await ollama.generate({
      model: "stories260K",
      prompt: "Once upon a time",
      stream: true,
      options: { num_predict: 30, temperature: 0 },
    });
    const pieces: string[] = [];
    let evalCount = 0;
    for await (const part of stream) {
      pieces.push(part.response ?? "");
      if (part.done) evalCount = part.eval_count;
    }
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.join("")).toMatch(/there was/);
    expect(evalCount).toBe(30);
  });

  it("ollama chat uses the plain fallback template and stops before a new User: turn", async () => {
    const response = await ollama.chat({
      model: "stories260K",
      messages: [{ role: "user", content: "Hello" }],
      options: { num_predict: 60, temperature: 0 },
    });
    expect(response.message.role).toBe("assistant");
    expect(response.message.content).not.toContain("\nUser:");
  });

  it("embeddings come back normalised with the model's dimension", async () => {
    const result = await openai.embeddings.create({ model: "stories260K", input: ["a cat", "a dog"] });
    expect(result.data).toHaveLength(2);
    for (const item of result.data) {
      expect(item.embedding).toHaveLength(64);
      expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 5);
    }
    const ollamaResult = await ollama.embed({ model: "stories260K", input: "a cat" });
    expect(ollamaResult.embeddings[0]![0]).toBeCloseTo(result.data[0]!.embedding[0]!, 5);
  });

  it("response_format json_schema yields JSON that matches the schema", async () => {
    const completion = await openai.chat.completions.create({
      model: "stories260K",
      messages: [{ role: "user", content: "Name a girl." }],
      max_tokens: 120,
      temperature: 0,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "girl",
          schema: {
            type: "object",
            properties: { name: { type: "string", maxLength: 12 } },
            required: ["name"],
            additionalProperties: false,
          },
        },
      },
    });
    const parsed = JSON.parse(completion.choices[0]!.message.content!) as { name: unknown };
    expect(typeof parsed.name).toBe("string");
  });

  it("the next turn of a chat reuses the cached prefix and reports cached tokens", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      {
        role: "system",
        content: "You tell short stories about animals who live in the forest near a river.",
      },
      { role: "user", content: "Tell me about the fox." },
    ];
    const first = await openai.chat.completions.create({
      model: "stories260K",
      messages,
      max_tokens: 16,
      temperature: 0,
    });
    messages.push(
      { role: "assistant", content: first.choices[0]!.message.content! },
      { role: "user", content: "And the owl?" },
    );
    const second = await openai.chat.completions.create({
      model: "stories260K",
      messages,
      max_tokens: 16,
      temperature: 0,
    });
    const cached = (
      second.usage as OpenAI.CompletionUsage & { prompt_tokens_details: { cached_tokens: number } }
    ).prompt_tokens_details.cached_tokens;
    expect(cached).toBeGreaterThan(20);
    expect(cached).toBeLessThan(second.usage!.prompt_tokens);
  });

  it("an over-long prompt is rejected with 400 naming the context size", async () => {
    const response = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt: "once upon a time ".repeat(400),
      max_tokens: 4,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("prompt-too-long");
    expect(body.error.message).toMatch(/context of 512 tokens/);
  });
});
