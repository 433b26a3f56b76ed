/** The OpenAI-compatible API (/v1) end to end: shapes of every body and stream chunk, and the official SDK. */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import {
  bodyOf,
  chatContent,
  keysOf,
  namesOf,
  postJson,
  readSse,
  sseJson,
  startTestServer,
  type TestServer,
} from "./helpers.js";

const reply = "Hello there from the fake model";
const replyTokens = 6;

let test: TestServer;
let url: string;

beforeAll(async () => {
  test = await startTestServer({
    models: {
      alpha: { reply },
      stopper: { reply: "Hello world STOP more words" },
    },
  });
  url = test.url;
});

afterAll(async () => {
  await test.dispose();
});

const chat = (extra: Record<string, unknown> = {}) => ({
  model: "alpha",
  messages: [{ role: "user", content: "say hi please" }],
  ...extra,
});

describe("GET /v1/models", () => {
  it("lists every model file in OpenAI's list shape", async () => {
    const response = await fetch(`${url}/v1/models`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await bodyOf(response);
    expect(body.object).toBe("list");
    expect(body.data).toHaveLength(2);
    for (const model of body.data) {
      expect(keysOf(model).sort()).toEqual(["created", "id", "object", "owned_by"]);
      expect(model.object).toBe("model");
      expect(Number.isInteger(model.created)).toBe(true);
      expect(typeof model.owned_by).toBe("string");
    }
    expect(namesOf(body.data)).toEqual(["alpha", "stopper"]);
  });
});

describe("POST /v1/chat/completions", () => {
  it("answers a non-streaming chat with the whole reply and finish_reason stop", async () => {
    const response = await postJson(`${url}/v1/chat/completions`, chat());
    expect(response.status).toBe(200);
    const body = await bodyOf(response);
    expect(body).toMatchObject({ object: "chat.completion", model: "alpha" });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(Number.isInteger(body.created)).toBe(true);
    expect(Math.abs(body.created - systemTime.wallNow() / 1000)).toBeLessThan(60);
    expect(body.choices).toEqual([
      { index: 0, message: { role: "assistant", content: reply }, logprobs: null, finish_reason: "stop" },
    ]);
    // The fake counts words as tokens, plus one for BOS in the prompt.
    expect(body.usage).toEqual({
      prompt_tokens: 4,
      completion_tokens: replyTokens,
      total_tokens: 4 + replyTokens,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const body = await bodyOf(await postJson(`${url}/v1/chat/completions`, chat({ max_tokens: 2 })));
    expect(body.choices[0].message.content).toBe("Hello there");
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.usage.completion_tokens).toBe(2);
  });

  it("accepts max_completion_tokens as the newer name of max_tokens", async () => {
    const body = await bodyOf(
      await postJson(`${url}/v1/chat/completions`, chat({ max_completion_tokens: 3 })),
    );
    expect(body.choices[0].message.content).toBe("Hello there from");
    expect(body.choices[0].finish_reason).toBe("length");
  });

  it("streams SSE chunks: role first, one id and created, content, finish_reason, [DONE]", async () => {
    const response = await postJson(`${url}/v1/chat/completions`, chat({ stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const stream = await readSse(response);
    expect(stream.data.at(-1)).toBe("[DONE]");
    expect(stream.data.filter((payload) => payload === "[DONE]")).toHaveLength(1);
    expect(stream.raw.endsWith("data: [DONE]\n\n")).toBe(true);
    const chunks = sseJson(stream);
    expect(chunks[0]!.choices[0].delta.role).toBe("assistant");
    const { id, created } = chunks[0]!;
    expect(id).toMatch(/^chatcmpl-/);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ id, created, object: "chat.completion.chunk", model: "alpha" });
      // Without include_usage the chunks carry no usage key at all.
      expect(chunk).not.toHaveProperty("usage");
    }
    expect(chatContent(chunks)).toBe(reply);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]);
    // Only the last chunk has a finish_reason.
    expect(chunks.slice(0, -1).every((chunk) => chunk.choices[0].finish_reason === null)).toBe(true);
  });

  it("streams finish_reason length when max_tokens cuts the reply", async () => {
    const chunks = sseJson(
      await readSse(await postJson(`${url}/v1/chat/completions`, chat({ stream: true, max_tokens: 1 }))),
    );
    expect(chatContent(chunks)).toBe("Hello");
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe("length");
  });

  it("with stream_options.include_usage: usage null on every chunk, then a usage chunk with no choices", async () => {
    const stream = await readSse(
      await postJson(
        `${url}/v1/chat/completions`,
        chat({ stream: true, stream_options: { include_usage: true } }),
      ),
    );
    expect(stream.data.at(-1)).toBe("[DONE]");
    const chunks = sseJson(stream);
    const usageChunk = chunks.at(-1)!;
    const earlier = chunks.slice(0, -1);
    for (const chunk of earlier) {
      expect(chunk).toHaveProperty("usage", null);
      expect(chunk.choices).toHaveLength(1);
    }
    expect(earlier.at(-1)!.choices[0].finish_reason).toBe("stop");
    expect(usageChunk.id).toBe(chunks[0]!.id);
    expect(usageChunk.created).toBe(chunks[0]!.created);
    expect(usageChunk.object).toBe("chat.completion.chunk");
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({
      prompt_tokens: 4,
      completion_tokens: replyTokens,
      total_tokens: 4 + replyTokens,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it("cuts the reply before a stop string and does not return the stop string", async () => {
    const body = await bodyOf(
      await postJson(`${url}/v1/chat/completions`, chat({ model: "stopper", stop: "STOP" })),
    );
    expect(body.choices[0].message.content).toBe("Hello world ");
    expect(body.choices[0].finish_reason).toBe("stop");
  });

  it("holds back streamed text that could start a stop string spanning tokens", async () => {
    const stream = await readSse(
      await postJson(
        `${url}/v1/chat/completions`,
        chat({ model: "stopper", stop: ["world STOP"], stream: true }),
      ),
    );
    const chunks = sseJson(stream);
    expect(chatContent(chunks)).toBe("Hello ");
    expect(stream.raw).not.toContain("world");
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe("stop");
  });

  it("returns the whole reply when the stop string never appears", async () => {
    const body = await bodyOf(
      await postJson(`${url}/v1/chat/completions`, chat({ stop: ["zebra", "fake modelx"] })),
    );
    expect(body.choices[0].message.content).toBe(reply);
  });

  it("accepts content as an array of text parts", async () => {
    const response = await postJson(`${url}/v1/chat/completions`, {
      model: "alpha",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "a b" },
            { type: "text", text: " c" },
          ],
        },
      ],
    });
    expect(response.status).toBe(200);
    expect((await bodyOf(response)).usage.prompt_tokens).toBe(4);
  });
});

describe("POST /v1/completions", () => {
  it("answers non-streaming with object text_completion and choices[0].text", async () => {
    const response = await postJson(`${url}/v1/completions`, { model: "alpha", prompt: "Once upon" });
    expect(response.status).toBe(200);
    const body = await bodyOf(response);
    expect(body).toMatchObject({ object: "text_completion", model: "alpha" });
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.choices).toEqual([{ index: 0, text: reply, logprobs: null, finish_reason: "stop" }]);
    expect(body.usage).toMatchObject({
      prompt_tokens: 3,
      completion_tokens: replyTokens,
      total_tokens: 3 + replyTokens,
    });
  });

  it("streams text_completion chunks that concatenate to the reply, then [DONE]", async () => {
    const response = await postJson(`${url}/v1/completions`, {
      model: "alpha",
      prompt: "Once upon",
      stream: true,
      max_tokens: 4,
    });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const stream = await readSse(response);
    expect(stream.data.at(-1)).toBe("[DONE]");
    const chunks = sseJson(stream);
    for (const chunk of chunks)
      expect(chunk).toMatchObject({
        id: chunks[0]!.id,
        created: chunks[0]!.created,
        object: "text_completion",
        model: "alpha",
      });
    expect(chunks.map((chunk) => chunk.choices[0].text as string).join("")).toBe("Hello there from the");
    expect(chunks.at(-1)!.choices[0]).toEqual({
      index: 0,
      text: "",
      logprobs: null,
      finish_reason: "length",
    });
  });

  it("streams usage as a last chunk with no choices when asked", async () => {
    const chunks = sseJson(
      await readSse(
        await postJson(`${url}/v1/completions`, {
          model: "alpha",
          prompt: "x",
          stream: true,
          stream_options: { include_usage: true },
        }),
      ),
    );
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 2, completion_tokens: replyTokens },
    });
  });

  it("accepts the prompt as a one-element array and applies stop strings", async () => {
    const body = await bodyOf(
      await postJson(`${url}/v1/completions`, { model: "stopper", prompt: ["go"], stop: ["STOP"] }),
    );
    expect(body.choices[0].text).toBe("Hello world ");
    expect(body.choices[0].finish_reason).toBe("stop");
  });
});

describe("POST /v1/embeddings", () => {
  it("returns float vectors, one per input, in OpenAI's list shape", async () => {
    const response = await postJson(`${url}/v1/embeddings`, {
      model: "alpha",
      input: ["hello world", "one two three four"],
    });
    expect(response.status).toBe(200);
    const body = await bodyOf(response);
    expect(body.object).toBe("list");
    expect(body.model).toBe("alpha");
    expect(body.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
    expect(body.data).toHaveLength(2);
    (body.data as { object: string; index: number; embedding: number[] }[]).forEach((item, index) => {
      expect(item.object).toBe("embedding");
      expect(item.index).toBe(index);
      expect(item.embedding).toHaveLength(3);
      // L2-normalised.
      expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 6);
    });
  });

  it("returns little-endian float32 bytes as base64 that decode to the float vector", async () => {
    const input = "the quick brown fox";
    const floats = await bodyOf(await postJson(`${url}/v1/embeddings`, { model: "alpha", input }));
    const base64 = await bodyOf(
      await postJson(`${url}/v1/embeddings`, { model: "alpha", input, encoding_format: "base64" }),
    );
    const encoded = base64.data[0].embedding as string;
    expect(typeof encoded).toBe("string");
    const bytes = Buffer.from(encoded, "base64");
    expect(bytes.length).toBe(3 * 4);
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    const expected = (floats.data[0].embedding as number[]).map((value) => Math.fround(value));
    expect(decoded).toEqual(expected);
  });
});

describe("the official openai client", () => {
  const client = () => new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });

  it("streams a chat completion with for await", async () => {
    const stream = await client().chat.completions.create({
      model: "alpha",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    const ids = new Set<string>();
    for await (const chunk of stream) {
      ids.add(chunk.id);
      content += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(content).toBe(reply);
    expect(finish).toBe("stop");
    expect(ids.size).toBe(1);
    expect(usage?.completion_tokens).toBe(replyTokens);
  });

  it("makes a non-streaming chat call and a completion call", async () => {
    const completion = await client().chat.completions.create({
      model: "alpha",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
    });
    expect(completion.choices[0]!.message).toMatchObject({ role: "assistant", content: "Hello there from" });
    expect(completion.choices[0]!.finish_reason).toBe("length");
    const text = await client().completions.create({ model: "alpha", prompt: "hi" });
    expect(text.choices[0]!.text).toBe(reply);
  });

  it("lists models and embeds (base64 decoded by the SDK)", async () => {
    const models = await client().models.list();
    expect(models.data.map((model) => model.id)).toEqual(["alpha", "stopper"]);
    const embedding = await client().embeddings.create({ model: "alpha", input: "hello world" });
    const expected = [11, 2, 1].map((value) => value / Math.hypot(11, 2, 1));
    embedding.data[0]!.embedding.forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 6));
  });

  it("raises NotFoundError with the server's message for an unknown model", async () => {
    const error: unknown = await client()
      .chat.completions.create({ model: "nope", messages: [{ role: "user", content: "hi" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toContain('"nope"');
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model-not-found");
  });
});

describe("X-Request-Id", () => {
  it("is on every response, successes and errors, streams included", async () => {
    const responses = [
      await fetch(`${url}/v1/models`),
      await fetch(`${url}/health`),
      await fetch(`${url}/v1/nope`),
      await postJson(`${url}/v1/chat/completions`, "{not json"),
      await postJson(`${url}/v1/chat/completions`, chat({ model: "missing" })),
      await postJson(`${url}/v1/chat/completions`, chat({ stream: true })),
      await fetch(`${url}/api/tags`),
    ];
    const ids = new Set<string>();
    for (const response of responses) {
      const id = response.headers.get("x-request-id");
      expect(id, `${response.url} ${response.status}`).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
      ids.add(id!);
      await response.arrayBuffer();
    }
    expect(ids.size).toBe(responses.length);
  });

  it("echoes a sane id the client sends, on success, error and stream", async () => {
    const ok = await fetch(`${url}/v1/models`, { headers: { "x-request-id": "client-id.1:abc" } });
    expect(ok.headers.get("x-request-id")).toBe("client-id.1:abc");
    const failed = await postJson(`${url}/v1/chat/completions`, chat({ model: "missing" }), {
      headers: { "x-request-id": "client-id-2" },
    });
    expect(failed.status).toBe(404);
    expect(failed.headers.get("x-request-id")).toBe("client-id-2");
    const streamed = await postJson(`${url}/v1/chat/completions`, chat({ stream: true }), {
      headers: { "x-request-id": "client-id-3" },
    });
    expect(streamed.headers.get("x-request-id")).toBe("client-id-3");
    // The completion id is derived from the request id.
    expect(sseJson(await readSse(streamed))[0]!.id).toBe("chatcmpl-client-id-3");
  });

  it("replaces an id that is too long or has odd characters", async () => {
    for (const sent of ["x".repeat(65), "has space", "semi;colon", "<script>"]) {
      const response = await fetch(`${url}/v1/models`, { headers: { "x-request-id": sent } });
      const id = response.headers.get("x-request-id");
      expect(id).not.toBe(sent);
      expect(id).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
      await response.arrayBuffer();
    }
  });
});
