/**
 * llama-server's /tokenize, /detokenize and /apply-template on a real server (FakeEngine: one
 * token per character, BOS = 1): the shapes llama.vscode reads, validation, no wait for a busy
 * sequence, a request without `model` when several are installed, and a user key's access.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mayUse } from "../../src/api/access-rules.js";
import { postJson, startTestServer, waitFor, type Json, type TestServer } from "./helpers.js";

describe("/tokenize, /detokenize and /apply-template", () => {
  let test: TestServer;
  const post = async (path: string, body: unknown) => {
    const response = await postJson(`${test.url}${path}`, body);
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    test = await startTestServer({
      models: { alpha: {}, slow: { reply: "a b c d e f g h i j k l m n o p", tokenDelayMs: 100 } },
      flags: { parallel: "1" },
    });
  });
  afterAll(async () => test.dispose());

  it("tokenizes to ids, with BOS on add_special, and with pieces", async () => {
    expect(await post("/tokenize", { content: "hi", model: "alpha" })).toEqual({
      status: 200,
      body: { tokens: [104, 105] },
    });
    expect((await post("/tokenize", { content: "hi", add_special: true, model: "alpha" })).body).toEqual({
      tokens: [1, 104, 105],
    });
    expect((await post("/tokenize", { content: "hé", with_pieces: true, model: "alpha" })).body).toEqual({
      tokens: [
        { id: 104, piece: "h" },
        { id: 233, piece: "é" },
      ],
    });
  });

  it("detokenizes ids back to text", async () => {
    expect(await post("/detokenize", { model: "alpha", tokens: [104, 105] })).toEqual({
      status: 200,
      body: { content: "hi" },
    });
    expect(await post("/detokenize", { model: "alpha", tokens: [] })).toEqual({
      status: 200,
      body: { content: "" },
    });
  });

  it("renders a chat with the model's template for the assistant's turn", async () => {
    const { status, body } = await post("/apply-template", {
      model: "alpha",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hello" }] },
      ],
    });
    expect(status).toBe(200);
    expect(body.prompt).toContain("Be brief.");
    expect(body.prompt).toContain("Hello");
  });

  it("refuses bad bodies and unknown models with clear errors", async () => {
    const missing = await post("/tokenize", { model: "alpha" });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toMatch(/content/);
    const negative = await post("/detokenize", { model: "alpha", tokens: [-1] });
    expect(negative.status).toBe(400);
    expect(JSON.stringify(negative.body)).toMatch(/token ids are 0 or more/);
    expect((await post("/apply-template", { model: "alpha", messages: [] })).status).toBe(400);
    const unnamed = await post("/tokenize", { content: "x" });
    expect(unnamed.status).toBe(400);
    expect(JSON.stringify(unnamed.body)).toMatch(
      /Several models are installed; name one in the request's \\"model\\" field \(alpha, slow\)/,
    );
    expect((await post("/tokenize", { content: "x", model: "nope" })).status).toBe(404);
  });

  it("answer while the model's only sequence is generating", async () => {
    const generation = postJson(`${test.url}/api/generate`, { model: "slow", prompt: "go", stream: false });
    await waitFor(
      () =>
        test.server.queue
          .snapshot()
          .requests.some((request) => request.model === "slow" && request.state === "running"),
      "the generation to run",
    );
    expect((await post("/tokenize", { model: "slow", content: "ok" })).body).toEqual({ tokens: [111, 107] });
    expect(test.server.queue.snapshot().requests.some((request) => request.model === "slow")).toBe(true);
    expect((await generation).status).toBe(200);
  });

  it("are open to user keys, as llama.vscode uses them", () => {
    for (const path of ["/tokenize", "/detokenize", "/apply-template"]) {
      expect(mayUse("user", { method: "POST", path })).toBe(true);
    }
  });
});
