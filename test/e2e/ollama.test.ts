/** The Ollama-compatible API (/api) end to end: model views, NDJSON streams, load/unload, and the official client. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import {
  bodyOf,
  type Json,
  namesOf,
  postJson,
  readNdjson,
  startTestServer,
  storiesModelPath,
  type TestServer,
} from "./helpers.js";

const reply = "Hello there from the fake model";
const replyTokens = 6;
const storiesDigest = createHash("sha256").update(readFileSync(storiesModelPath)).digest("hex");
const storiesSize = readFileSync(storiesModelPath).length;

let test: TestServer;
let url: string;

beforeAll(async () => {
  test = await startTestServer({
    models: {
      alpha: { reply },
      beta: { reply: "beta says hi" },
      slow: { reply: "one two three", tokenDelayMs: 40 },
    },
    flags: { "context-size": "512" },
  });
  url = test.url;
});

afterAll(async () => {
  await test.dispose();
});

const loadedNames = () => test.server.queue.snapshot().loaded.map((model) => model.name);

function expectFinalLine(line: Json, tokens: number): void {
  expect(line.done).toBe(true);
  expect(line.done_reason).toBe("stop");
  for (const field of [
    "total_duration",
    "load_duration",
    "prompt_eval_duration",
    "eval_duration",
    "prompt_eval_count",
    "eval_count",
  ]) {
    expect(Number.isInteger(line[field]), field).toBe(true);
    expect(line[field], field).toBeGreaterThanOrEqual(0);
  }
  expect(line.eval_count).toBe(tokens);
}

describe("model views", () => {
  it("GET and HEAD / answer 200, as Ollama clients probe", async () => {
    const root = await fetch(`${url}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toMatch(/is running/);
    expect((await fetch(`${url}/`, { method: "HEAD" })).status).toBe(200);
  });

  it("GET /api/version answers the package version", async () => {
    const response = await fetch(`${url}/api/version`);
    expect(response.status).toBe(200);
    const body = await bodyOf(response);
    expect(body).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it("GET /api/tags lists models with size, sha256 digest and gguf details", async () => {
    const body = await bodyOf(await fetch(`${url}/api/tags`));
    expect(namesOf(body.models)).toEqual(["alpha", "beta", "slow"]);
    for (const model of body.models as Json[]) {
      expect(model.model).toBe(model.name);
      expect(model.size).toBe(storiesSize);
      expect(model.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(model.digest).toBe(storiesDigest);
      expect(new Date(model.modified_at as string).toISOString()).toBe(model.modified_at);
      expect(model.details).toMatchObject({
        parent_model: "",
        format: "gguf",
        family: "llama",
        families: ["llama"],
      });
      expect(typeof model.details.parameter_size).toBe("string");
      expect(typeof model.details.quantization_level).toBe("string");
    }
  });

  it("POST /api/show describes a model, by model or by the older name field", async () => {
    const response = await postJson(`${url}/api/show`, { model: "alpha" });
    expect(response.status).toBe(200);
    const body = await bodyOf(response);
    expect(body.details).toMatchObject({ format: "gguf", family: "llama" });
    expect(typeof body.modelfile).toBe("string");
    expect(body.modelfile).toContain("FROM ");
    expect(typeof body.parameters).toBe("string");
    expect(typeof body.template).toBe("string");
    expect(body.model_info["general.architecture"]).toBe("llama");
    expect(Number.isInteger(body.model_info["llama.context_length"])).toBe(true);
    expect(body.capabilities).toContain("completion");
    const byName = await bodyOf(await postJson(`${url}/api/show`, { name: "alpha:latest" }));
    expect(byName.details).toEqual(body.details);
  });

  it("GET /api/ps lists a model after a request, with context_length and a future expires_at", async () => {
    await (
      await postJson(`${url}/api/generate`, { model: "alpha", prompt: "hi", stream: false })
    ).arrayBuffer();
    const body = await bodyOf(await fetch(`${url}/api/ps`));
    const alpha = (body.models as Json[]).find((model) => model.name === "alpha");
    expect(alpha).toBeDefined();
    expect(alpha).toMatchObject({
      name: "alpha",
      model: "alpha",
      context_length: 512,
      digest: storiesDigest,
      details: { format: "gguf", family: "llama" },
    });
    expect(Number.isInteger(alpha!.size)).toBe(true);
    expect(Number.isInteger(alpha!.size_vram)).toBe(true);
    const expires = Date.parse(alpha!.expires_at as string);
    // The default keep-alive is 5 minutes.
    expect(expires).toBeGreaterThan(systemTime.wallNow() + 4 * 60_000);
    expect(expires).toBeLessThan(systemTime.wallNow() + 6 * 60_000);
  });
});

describe("POST /api/generate", () => {
  // Regression: total_duration counts from the request's arrival, so it covers queue wait, load,
  // prompt and decode and is never smaller than eval_duration.
  it("streams NDJSON pieces that concatenate to the reply, then a done line with nanosecond timings", async () => {
    const response = await postJson(`${url}/api/generate`, { model: "alpha", prompt: "tell me a story" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = await readNdjson(response);
    const pieces = lines.slice(0, -1);
    expect(pieces.length).toBeGreaterThan(1);
    for (const line of pieces) {
      expect(line).toMatchObject({ model: "alpha", done: false });
      expect(typeof line.response).toBe("string");
      expect(Number.isNaN(Date.parse(line.created_at as string))).toBe(false);
    }
    expect(pieces.map((line) => line.response as string).join("")).toBe(reply);
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ model: "alpha", response: "" });
    expectFinalLine(last, replyTokens);
    expect(last.prompt_eval_count).toBe(5);
  });

  // BUG src/api/ollama/routes.ts generate(): `startedMs` is taken after startGeneration returned, i.e.
  // after the queue wait and the first token, so total_duration leaves those out and comes out
  // smaller than eval_duration (clients computing total - load - prompt - eval get a negative).
  it("total_duration covers the whole request: at least load + prompt eval + eval", async () => {
    const lines = await readNdjson(await postJson(`${url}/api/generate`, { model: "slow", prompt: "hi" }));
    const single = await bodyOf(
      await postJson(`${url}/api/generate`, { model: "slow", prompt: "hi", stream: false }),
    );
    for (const final of [lines.at(-1)!, single]) {
      expect(final.eval_duration).toBeGreaterThanOrEqual(100e6);
      const parts =
        (final.load_duration as number) +
        (final.prompt_eval_duration as number) +
        (final.eval_duration as number);
      expect(final.total_duration).toBeGreaterThanOrEqual(parts);
    }
  });

  it("answers one JSON object with stream:false", async () => {
    const response = await postJson(`${url}/api/generate`, { model: "alpha", prompt: "hi", stream: false });
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await bodyOf(response);
    expect(body).toMatchObject({ model: "alpha", response: reply });
    expectFinalLine(body, replyTokens);
  });

  it("reports done_reason length when num_predict cuts the reply", async () => {
    const lines = await readNdjson(
      await postJson(`${url}/api/generate`, { model: "alpha", prompt: "hi", options: { num_predict: 2 } }),
    );
    expect(
      lines
        .slice(0, -1)
        .map((line) => line.response as string)
        .join(""),
    ).toBe("Hello there");
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: "length", eval_count: 2 });
  });

  it("applies options.stop", async () => {
    const body = await bodyOf(
      await postJson(`${url}/api/generate`, {
        model: "alpha",
        prompt: "hi",
        stream: false,
        options: { stop: ["the fake"] },
      }),
    );
    expect(body.response).toBe("Hello there from ");
    expect(body.done_reason).toBe("stop");
  });

  it("accepts model:latest and model.gguf as the same model", async () => {
    for (const model of ["alpha:latest", "alpha.gguf"]) {
      const response = await postJson(`${url}/api/generate`, { model, prompt: "hi", stream: false });
      expect(response.status, model).toBe(200);
      expect((await bodyOf(response)).response).toBe(reply);
    }
  });
});

describe("POST /api/chat", () => {
  it("streams NDJSON assistant messages, then a done line", async () => {
    const response = await postJson(`${url}/api/chat`, {
      model: "alpha",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hi" },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = await readNdjson(response);
    for (const line of lines.slice(0, -1)) {
      expect(line.done).toBe(false);
      expect(line.message.role).toBe("assistant");
    }
    expect(
      lines
        .slice(0, -1)
        .map((line) => line.message.content as string)
        .join(""),
    ).toBe(reply);
    const last = lines.at(-1)!;
    expect(last.message).toEqual({ role: "assistant", content: "" });
    expectFinalLine(last, replyTokens);
  });

  it("answers one object with stream:false", async () => {
    const body = await bodyOf(
      await postJson(`${url}/api/chat`, {
        model: "beta",
        messages: [{ role: "user", content: "hi" }],
        stream: false,
      }),
    );
    expect(body).toMatchObject({
      model: "beta",
      message: { role: "assistant", content: "beta says hi" },
      done: true,
      done_reason: "stop",
      eval_count: 3,
    });
  });
});

describe("load and unload with an empty prompt", () => {
  it("an empty generate loads the model (done_reason load); keep_alive 0 unloads it (done_reason unload)", async () => {
    await postJson(`${url}/api/generate`, { model: "beta", keep_alive: 0 }).then((response) =>
      response.arrayBuffer(),
    );
    expect(loadedNames()).not.toContain("beta");
    const loadsBefore = test.engine.loads;

    const loaded = await postJson(`${url}/api/generate`, { model: "beta" });
    expect(loaded.status).toBe(200);
    expect(await bodyOf(loaded)).toMatchObject({
      model: "beta",
      response: "",
      done: true,
      done_reason: "load",
    });
    expect(test.engine.loads).toBe(loadsBefore + 1);
    const ps = await bodyOf(await fetch(`${url}/api/ps`));
    expect(namesOf(ps.models)).toContain("beta");

    const unloaded = await postJson(`${url}/api/generate`, { model: "beta", prompt: "", keep_alive: 0 });
    expect(unloaded.status).toBe(200);
    expect(await bodyOf(unloaded)).toMatchObject({ model: "beta", done: true, done_reason: "unload" });
    const after = await bodyOf(await fetch(`${url}/api/ps`));
    expect(namesOf(after.models)).not.toContain("beta");
    expect(loadedNames()).not.toContain("beta");
  });

  it('an empty chat loads too, and keep_alive "0s" on a chat unloads', async () => {
    const loaded = await bodyOf(await postJson(`${url}/api/chat`, { model: "beta", messages: [] }));
    expect(loaded).toMatchObject({
      model: "beta",
      message: { role: "assistant", content: "" },
      done: true,
      done_reason: "load",
    });
    expect(loadedNames()).toContain("beta");
    const unloaded = await bodyOf(await postJson(`${url}/api/chat`, { model: "beta", keep_alive: "0s" }));
    expect(unloaded.done_reason).toBe("unload");
    expect(loadedNames()).not.toContain("beta");
  });

  it("a keep_alive of -1 keeps the model with a far-future expires_at", async () => {
    await (await postJson(`${url}/api/generate`, { model: "beta", keep_alive: -1 })).arrayBuffer();
    const ps = await bodyOf(await fetch(`${url}/api/ps`));
    const beta = (ps.models as Json[]).find((model) => model.name === "beta");
    expect(new Date(beta!.expires_at as string).getUTCFullYear()).toBeGreaterThan(2100);
    await (await postJson(`${url}/api/generate`, { model: "beta", keep_alive: 0 })).arrayBuffer();
  });
});

describe("POST /api/embed", () => {
  it("returns one normalised vector per input", async () => {
    const response = await postJson(`${url}/api/embed`, { model: "alpha", input: ["hello world", "a"] });
    expect(response.status).toBe(200);
    const body = await bodyOf(response);
    expect(body.model).toBe("alpha");
    expect(body.embeddings).toHaveLength(2);
    for (const vector of body.embeddings as number[][]) expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
    expect(body.prompt_eval_count).toBe(3);
    expect(Number.isInteger(body.total_duration)).toBe(true);
  });

  it("accepts a single string", async () => {
    const body = await bodyOf(await postJson(`${url}/api/embed`, { model: "alpha", input: "hello world" }));
    expect(body.embeddings).toHaveLength(1);
  });
});

describe("the official ollama client", () => {
  const client = () => new Ollama({ host: url });

  it("generate({stream:true}) yields the reply and a done part", async () => {
    const stream = await client().generate({ model: "alpha", prompt: "hi", stream: true });
    let text = "";
    let final: { done: boolean; done_reason: string; eval_count: number } | undefined;
    for await (const part of stream) {
      text += part.response;
      if (part.done) final = part;
    }
    expect(text).toBe(reply);
    expect(final).toMatchObject({ done: true, done_reason: "stop", eval_count: replyTokens });
  });

  it("chat, streaming and not", async () => {
    const answer = await client().chat({ model: "alpha", messages: [{ role: "user", content: "hi" }] });
    expect(answer.message).toMatchObject({ role: "assistant", content: reply });
    expect(answer.done).toBe(true);
    const stream = await client().chat({
      model: "beta",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let content = "";
    for await (const part of stream) content += part.message.content;
    expect(content).toBe("beta says hi");
  });

  it("list, show, ps, version and embed", async () => {
    const ollama = client();
    expect((await ollama.list()).models.map((model) => model.name)).toEqual(["alpha", "beta", "slow"]);
    expect((await ollama.show({ model: "alpha" })).details.family).toBe("llama");
    expect((await ollama.ps()).models.map((model) => model.name)).toContain("alpha");
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await ollama.embed({ model: "alpha", input: "x y" })).embeddings).toHaveLength(1);
  });

  it("throws the server's error message for an unknown model", async () => {
    const error: unknown = await client()
      .generate({ model: "ghost", prompt: "hi" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('"ghost"');
    expect((error as { status_code?: number }).status_code).toBe(404);
  });
});
