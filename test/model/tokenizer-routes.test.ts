/**
 * llama-server's /tokenize, /detokenize and /apply-template on the real engine (stories260K and a
 * synthetic FIM model), and special-token parsing in /v1/completions prompts: Continue's
 * OpenAI-provider FIM types the model's FIM tokens into the prompt, and each must reach the model
 * as one token id.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getLlama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticModelShapes, writeFimModel, writeLlamaModel } from "../../src/gguf/index.js";
import { postJson, startModelServer, storiesPath, type ModelTestServer } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const shape = { ...syntheticModelShapes.tiny, name: "synthetic-fim" };
const [prefixId, suffixId, middleId] = [shape.vocabSize - 3, shape.vocabSize - 2, shape.vocabSize - 1];

describe("the tokenizer routes on the real engine", () => {
  let test: ModelTestServer;
  const post = async (path: string, body: unknown) => {
    const response = await postJson(`${test.url}${path}`, body);
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    test = await startModelServer({ parallel: "1" });
    await writeFimModel(join(test.modelsDir, "coder.gguf"), shape);
    await writeLlamaModel(join(test.modelsDir, "chat-qwen.gguf"), {
      ...syntheticModelShapes.tiny,
      name: "synthetic-qwen2_5",
      chatTemplate: readFileSync(join(import.meta.dirname, "templates", "qwen2_5.jinja"), "utf8"),
    });
  });
  afterAll(async () => test.dispose());

  it("round-trips text through /tokenize and /detokenize on stories260K", async () => {
    const content = "Once upon a time, there was a little girl named Lily.";
    const { status, body } = await post("/tokenize", { model: "stories260K", content });
    expect(status).toBe(200);
    const tokens = body.tokens as number[];
    expect(tokens.length).toBeGreaterThan(5);
    expect(tokens.every((id) => Number.isInteger(id))).toBe(true);
    const back = await post("/detokenize", { model: "stories260K", tokens });
    expect(back).toEqual({
      status: 200,
      body: { content: expect.stringMatching(/^ ?Once upon a time, there was a little girl named Lily\.$/) },
    });

    const withBos = await post("/tokenize", { model: "stories260K", content, add_special: true });
    expect(withBos.body.tokens).toEqual([1, ...tokens]);
    const pieces = await post("/tokenize", { model: "stories260K", content, with_pieces: true });
    const entries = pieces.body.tokens as { id: number; piece: string }[];
    expect(entries.map((entry) => entry.id)).toEqual(tokens);
    expect(entries.map((entry) => entry.piece).join("")).toBe(` ${content}`);
  });

  it("refuses token ids outside the vocabulary and renders the plain chat for a model without a template", async () => {
    const bad = await post("/detokenize", { model: "stories260K", tokens: [1, 10_000_000] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/Token id 10000000 is not in the model's vocabulary/);
    const chat = await post("/apply-template", {
      model: "stories260K",
      messages: [{ role: "user", content: "Tell me a story" }],
    });
    expect(chat.status).toBe(200);
    expect(chat.body.prompt).toContain("Tell me a story");
  });

  it("renders a chat with the model's own template, ready for the assistant's turn", async () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
    ];
    const { status, body } = await post("/apply-template", { model: "chat-qwen", messages });
    expect(status).toBe(200);
    const prompt = body.prompt as string;
    expect(prompt).toContain("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n");
    expect(prompt.endsWith("<|im_start|>assistant\n")).toBe(true);
  });

  it("parses the model's special tokens in /tokenize unless parse_special is false", async () => {
    const content = "<fim_prefix>ab<fim_suffix>cd<fim_middle>";
    const parsed = (await post("/tokenize", { model: "coder", content })).body.tokens as number[];
    expect(parsed.filter((id) => [prefixId, suffixId, middleId].includes(id))).toEqual([
      prefixId,
      suffixId,
      middleId,
    ]);
    expect(parsed[0]).toBe(prefixId);
    expect(parsed.at(-1)).toBe(middleId);
    const literal = (await post("/tokenize", { model: "coder", content, parse_special: false })).body.tokens;
    expect(literal).not.toContain(prefixId);
    expect(literal.length).toBeGreaterThan(parsed.length);
  });

  it("reads FIM tokens typed into a /v1/completions prompt as single tokens", async () => {
    const prompt = "<fim_prefix>def add(a, b):\n    return <fim_suffix>\n<fim_middle>";
    const parsed = (await post("/tokenize", { model: "coder", content: prompt, add_special: true })).body
      .tokens;
    const literal = (
      await post("/tokenize", { model: "coder", content: prompt, add_special: true, parse_special: false })
    ).body.tokens;
    const { status, body } = await post("/v1/completions", {
      model: "coder",
      prompt,
      max_tokens: 2,
      temperature: 0,
    });
    expect(status).toBe(200);
    expect(body.usage.prompt_tokens).toBe(parsed.length);
    expect(body.usage.prompt_tokens).toBeLessThan((literal as number[]).length);
  });

  it("tokenizes an ordinary /v1/completions prompt as llama.cpp's servers do (BOS + space-prefixed words)", async () => {
    const prompt = "Once upon a time";
    const llama = await getLlama({ build: "never", gpu: false });
    const model = await llama.loadModel({ modelPath: storiesPath });
    let expected: number;
    try {
      expected = 1 + model.tokenize(prompt).length;
      // Ordinary text splits the same whether special tokens are parsed or not (docs/decisions/0033).
      expect(model.tokenize(prompt, true)).toEqual(model.tokenize(prompt));
      // node-llama-cpp's trimmed form ("On" "c" "e" …) is what RawrXD must not send.
      expect(1 + model.tokenize(prompt, false, "trimLeadingSpace").length).not.toBe(expected);
    } finally {
      await model.dispose();
    }
    const { body } = await post("/v1/completions", {
      model: "stories260K",
      prompt,
      max_tokens: 1,
      temperature: 0,
    });
    expect(body.usage.prompt_tokens).toBe(expected);
  });
});
