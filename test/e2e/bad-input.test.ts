/**
 * Bad input and limits end to end: every rejection has the dialect's error body and status,
 * names what was wrong, and never reaches the engine.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import { bodyOf, type Json, keysOf, postJson, startTestServer, type TestServer, waitFor } from "./helpers.js";

const maxBodyBytes = 2048;

let test: TestServer;
let url: string;

beforeAll(async () => {
  test = await startTestServer({
    models: { alpha: { reply: "fine thanks" } },
    flags: { "max-body-bytes": String(maxBodyBytes), "context-size": "64" },
  });
  url = test.url;
});

afterAll(async () => {
  await test.dispose();
});

const chat = (extra: Record<string, unknown> = {}) => ({
  model: "alpha",
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});

/** Asserts the OpenAI error shape and returns the error object. */
async function openAiError(
  response: Response,
  status: number,
): Promise<{ message: string; type: string; param: string | null; code: string }> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  expect(response.headers.get("x-request-id")).toBeTruthy();
  const body = await bodyOf(response);
  expect(keysOf(body)).toEqual(["error"]);
  expect(keysOf(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error as { message: string; type: string; param: string | null; code: string };
}

/** Asserts Ollama's `{error: "..."}` shape and returns the message. */
async function ollamaError(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  expect(response.headers.get("x-request-id")).toBeTruthy();
  const body = await bodyOf(response);
  expect(keysOf(body)).toEqual(["error"]);
  expect(typeof body.error).toBe("string");
  return body.error as string;
}

describe("malformed bodies", () => {
  it("invalid JSON is 400 in both dialects", async () => {
    const openai = await openAiError(
      await postJson(`${url}/v1/chat/completions`, '{"model": "alpha", '),
      400,
    );
    expect(openai).toMatchObject({ type: "invalid_request_error", code: "bad-request", param: null });
    expect(openai.message).toMatch(/not valid JSON/);
    expect(await ollamaError(await postJson(`${url}/api/chat`, "{oops}"), 400)).toMatch(/not valid JSON/);
    expect(await ollamaError(await postJson(`${url}/api/generate`, ""), 400)).toMatch(/not valid JSON/);
  });

  it("a body that is not an object is 400", async () => {
    for (const body of ["[]", "null", '"text"', "42"]) {
      const error = await openAiError(await postJson(`${url}/v1/chat/completions`, body), 400);
      expect(error.code, body).toBe("bad-request");
    }
  });

  it.each([
    ["messages", { messages: "hi" }],
    ["max_tokens", { max_tokens: "10" }],
    ["temperature", { temperature: "hot" }],
    ["stream", { stream: "yes" }],
    ["messages.0.role", { messages: [{ role: "wizard", content: "hi" }] }],
    ["stop", { stop: 5 }],
  ])("a wrong type is 400 naming the field %s", async (field, extra) => {
    const error = await openAiError(await postJson(`${url}/v1/chat/completions`, chat(extra)), 400);
    expect(error).toMatchObject({ type: "invalid_request_error", code: "bad-request", param: field });
    expect(error.message).toContain(`"${field}"`);
  });

  it("a missing model is 400 naming model", async () => {
    const error = await openAiError(
      await postJson(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "hi" }] }),
      400,
    );
    expect(error.param).toBe("model");
    expect(await ollamaError(await postJson(`${url}/api/generate`, { prompt: "hi" }), 400)).toContain(
      '"model"',
    );
  });

  it("empty messages is 400", async () => {
    const error = await openAiError(
      await postJson(`${url}/v1/chat/completions`, chat({ messages: [] })),
      400,
    );
    expect(error.param).toBe("messages");
    expect(error.message).toMatch(/at least one message/);
  });

  it.each([
    ["-5", -5],
    ["0", 0],
    ["10000000", 10_000_000],
    ["1.5", 1.5],
  ])("max_tokens %s is 400", async (_label, value) => {
    const error = await openAiError(
      await postJson(`${url}/v1/chat/completions`, chat({ max_tokens: value })),
      400,
    );
    expect(error.param).toBe("max_tokens");
  });

  it("temperature 1e999 (JSON parses it to Infinity) is 400", async () => {
    const raw = '{"model":"alpha","messages":[{"role":"user","content":"hi"}],"temperature":1e999}';
    expect(JSON.parse(raw)).toMatchObject({ temperature: Infinity });
    const error = await openAiError(await postJson(`${url}/v1/chat/completions`, raw), 400);
    expect(error.param).toBe("temperature");
    const ollama = await ollamaError(
      await postJson(
        `${url}/api/generate`,
        '{"model":"alpha","prompt":"hi","options":{"temperature":-1e999}}',
      ),
      400,
    );
    expect(ollama).toContain('"options.temperature"');
  });

  it("n: 2 is 400", async () => {
    const error = await openAiError(await postJson(`${url}/v1/chat/completions`, chat({ n: 2 })), 400);
    expect(error.param).toBe("n");
    expect(error.message).toMatch(/n=1/);
  });

  it("completions refuse echo and a list of several prompts", async () => {
    expect(
      (
        await openAiError(
          await postJson(`${url}/v1/completions`, { model: "alpha", prompt: "a", echo: true }),
          400,
        )
      ).param,
    ).toBe("echo");
    expect(
      (
        await openAiError(
          await postJson(`${url}/v1/completions`, { model: "alpha", prompt: ["a", "b"] }),
          400,
        )
      ).param,
    ).toBe("prompt");
  });

  it("an invalid X-Priority header is 400", async () => {
    const error = await openAiError(
      await postJson(`${url}/v1/chat/completions`, chat(), { headers: { "x-priority": "urgent" } }),
      400,
    );
    expect(error.param).toBe("priority");
  });

  it("Ollama: images in chat or generate are 400; so are bad options and keep_alive", async () => {
    const images = ["aGVsbG8="];
    expect(
      await ollamaError(
        await postJson(`${url}/api/chat`, {
          model: "alpha",
          messages: [{ role: "user", content: "what is this?", images }],
        }),
        400,
      ),
    ).toMatch(/images/);
    expect(
      await ollamaError(
        await postJson(`${url}/api/generate`, { model: "alpha", prompt: "what is this?", images }),
        400,
      ),
    ).toMatch(/images/);
    expect(
      await ollamaError(
        await postJson(`${url}/api/generate`, {
          model: "alpha",
          prompt: "hi",
          options: { temperature: "hot" },
        }),
        400,
      ),
    ).toContain('"options.temperature"');
    expect(
      await ollamaError(
        await postJson(`${url}/api/generate`, { model: "alpha", prompt: "hi", options: { num_predict: 0 } }),
        400,
      ),
    ).toContain('"options.num_predict"');
    expect(
      await ollamaError(
        await postJson(`${url}/api/generate`, { model: "alpha", prompt: "hi", keep_alive: "forever" }),
        400,
      ),
    ).toMatch(/keep_alive/);
    expect(
      await ollamaError(await postJson(`${url}/api/chat`, { model: "alpha", messages: "hi" }), 400),
    ).toContain('"messages"');
  });
});

describe("body size", () => {
  const big = (): string =>
    JSON.stringify(chat({ messages: [{ role: "user", content: "word ".repeat(maxBodyBytes) }] }));

  it("a body over --max-body-bytes is 413 in both dialects", async () => {
    const openai = await openAiError(await postJson(`${url}/v1/chat/completions`, big()), 413);
    expect(openai).toMatchObject({ code: "body-too-large", type: "invalid_request_error" });
    expect(openai.message).toContain(String(maxBodyBytes));
    expect(await ollamaError(await postJson(`${url}/api/chat`, big()), 413)).toContain(String(maxBodyBytes));
  });

  it("a body just under the limit is accepted", async () => {
    const body = JSON.stringify(chat({ messages: [{ role: "user", content: "" }] }));
    const padded = body.slice(0, -1) + `, "user": "${"u".repeat(maxBodyBytes - body.length - 20)}"}`;
    expect(Buffer.byteLength(padded)).toBeLessThanOrEqual(maxBodyBytes);
    expect((await postJson(`${url}/v1/chat/completions`, padded)).status).toBe(200);
  });

  it("a chunked body (no Content-Length) over the limit is 413", async () => {
    const response = await new Promise<IncomingMessage>((done, fail) => {
      const request = httpRequest(new URL("/v1/chat/completions", url), {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json" },
      });
      request.once("response", done).once("error", fail);
      const body = big();
      request.write(body.slice(0, 1000));
      request.end(body.slice(1000));
    });
    expect(response.statusCode).toBe(413);
    expect(
      response.headers["transfer-encoding"] === "chunked" || response.headers["content-length"] !== undefined,
    ).toBe(true);
    response.resume();
  });

  // Regression: a chunked body (no Content-Length) is counted as it arrives and refused as soon
  // as it passes the limit, never buffered whole.
  it("answers 413 as soon as a chunked body passes the limit, without waiting for its end", async () => {
    const request = httpRequest(new URL("/v1/chat/completions", url), {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json" },
    });
    try {
      const response = new Promise<IncomingMessage>((done, fail) =>
        request.once("response", done).once("error", fail),
      );
      response.catch(() => {});
      request.write(
        `{"model":"alpha","messages":[{"role":"user","content":"${"x".repeat(16 * maxBodyBytes)}`,
      );
      const first = await Promise.race([
        response,
        new Promise<"no answer">((done) => systemTime.setTimeout(() => done("no answer"), 1000)),
      ]);
      expect(first).not.toBe("no answer");
      expect((first as IncomingMessage).statusCode).toBe(413);
    } finally {
      request.destroy();
    }
  });
});

describe("model names", () => {
  it("an unknown model is 404 naming it, in both dialects", async () => {
    const error = await openAiError(
      await postJson(`${url}/v1/chat/completions`, chat({ model: "no-such-model" })),
      404,
    );
    expect(error).toMatchObject({ type: "not_found_error", code: "model-not-found", param: "model" });
    expect(error.message).toContain('"no-such-model"');
    expect(error.message).toContain("alpha");
    const embed = await openAiError(
      await postJson(`${url}/v1/embeddings`, { model: "no-such-model", input: "x" }),
      404,
    );
    expect(embed.code).toBe("model-not-found");
    for (const [path, body] of [
      ["/api/generate", { model: "ghost", prompt: "hi" }],
      ["/api/chat", { model: "ghost", messages: [{ role: "user", content: "hi" }] }],
      ["/api/generate", { model: "ghost" }],
      ["/api/show", { model: "ghost" }],
      ["/api/embed", { model: "ghost", input: "x" }],
    ] as const) {
      expect(await ollamaError(await postJson(`${url}${path}`, body), 404), path).toContain('"ghost"');
    }
  });

  it.each(["../alpha", "/etc/passwd", "a/b", "..\\alpha", "a\\b", "C:evil", "..", "x\u0000y"])(
    "model %j is 400 and never reaches the engine",
    async (model) => {
      const loads = test.engine.loads;
      const openai = await openAiError(await postJson(`${url}/v1/chat/completions`, chat({ model })), 400);
      expect(openai).toMatchObject({ code: "bad-request", param: "model" });
      expect(openai.message).toContain("not allowed");
      expect(
        (await openAiError(await postJson(`${url}/v1/completions`, { model, prompt: "x" }), 400)).param,
      ).toBe("model");
      expect(
        (await openAiError(await postJson(`${url}/v1/embeddings`, { model, input: "x" }), 400)).param,
      ).toBe("model");
      for (const [path, body] of [
        ["/api/generate", { model, prompt: "hi" }],
        ["/api/chat", { model, messages: [{ role: "user", content: "hi" }] }],
        ["/api/generate", { model }],
        ["/api/generate", { model, keep_alive: 0 }],
        ["/api/show", { model }],
        ["/api/embed", { model, input: "x" }],
      ] as const) {
        expect(await ollamaError(await postJson(`${url}${path}`, body), 400), path).toContain("not allowed");
      }
      expect(test.engine.loads).toBe(loads);
    },
  );
});

describe("unknown routes", () => {
  it("are 404 in each dialect's error format", async () => {
    const openai = await openAiError(await fetch(`${url}/v1/nope`), 404);
    expect(openai).toMatchObject({ type: "not_found_error", code: "not-found", param: null });
    expect(openai.message).toContain("/v1/nope");
    expect(await ollamaError(await fetch(`${url}/api/nope`), 404)).toContain("/api/nope");
    // A known path with the wrong method is a 405 (test/e2e/http-front-door.test.ts), not a 404.
    expect((await openAiError(await fetch(`${url}/v1/chat/completions`), 405)).code).toBe(
      "method-not-allowed",
    );
    expect(await ollamaError(await fetch(`${url}/api/generate`), 405)).toContain("/api/generate");
    const native = await fetch(`${url}/nope`);
    expect(native.status).toBe(404);
    expect((await bodyOf(native)).error.code).toBe("not-found");
  });
});

describe("prompt longer than the context", () => {
  const longPrompt = "word ".repeat(100).trim();

  it("is 400 prompt-too-long naming the context size, in both dialects", async () => {
    const error = await openAiError(
      await postJson(
        `${url}/v1/chat/completions`,
        chat({ messages: [{ role: "user", content: longPrompt }] }),
      ),
      400,
    );
    expect(error).toMatchObject({ code: "prompt-too-long", type: "invalid_request_error" });
    expect(error.message).toContain("64");
    const streamed = await openAiError(
      await postJson(`${url}/v1/completions`, { model: "alpha", prompt: longPrompt, stream: true }),
      400,
    );
    expect(streamed.code).toBe("prompt-too-long");
    expect(
      await ollamaError(await postJson(`${url}/api/generate`, { model: "alpha", prompt: longPrompt }), 400),
    ).toContain("64");
  });

  it("leaves the model free for the next request", async () => {
    await openAiError(
      await postJson(
        `${url}/v1/chat/completions`,
        chat({ messages: [{ role: "user", content: longPrompt }] }),
      ),
      400,
    );
    const ok = await bodyOf(await postJson(`${url}/v1/chat/completions`, chat()));
    expect(ok.choices[0].message.content).toBe("fine thanks");
    expect(test.server.queue.snapshot().loaded.find((model) => model.name === "alpha")?.active).toBe(0);
  });
});

describe("queue limits", () => {
  let busy: TestServer;

  beforeAll(async () => {
    busy = await startTestServer({
      models: { slow: { reply: "tick ".repeat(40).trim(), tokenDelayMs: 25 } },
      flags: { parallel: "1", "max-queue": "1" },
    });
  });

  afterAll(async () => {
    await busy.dispose();
  });

  it("rejects beyond --max-queue: 429 + Retry-After on /v1, 503 + Retry-After on /api", async () => {
    const { queue } = busy.server;
    const abort = new AbortController();
    // Wait for the stream's head: a client leaving before it leaks the sequence (see streaming.test.ts).
    const running = await postJson(
      `${busy.url}/v1/chat/completions`,
      { model: "slow", messages: [{ role: "user", content: "a" }], stream: true },
      { signal: abort.signal },
    );
    expect(running.status).toBe(200);
    expect(queue.snapshot().loaded[0]?.active).toBe(1);
    const waiting = postJson(
      `${busy.url}/api/generate`,
      { model: "slow", prompt: "b", stream: false },
      { signal: abort.signal },
    );
    waiting.catch(() => {});
    await waitFor(() => queue.snapshot().queued === 1, "the second request to queue");

    const rejected = await postJson(`${busy.url}/v1/chat/completions`, {
      model: "slow",
      messages: [{ role: "user", content: "c" }],
    });
    const error = await openAiError(rejected, 429);
    expect(error).toMatchObject({ type: "rate_limit_error", code: "queue-full" });
    expect(error.message).toMatch(/--max-queue 1/);
    expect(Number(rejected.headers.get("retry-after"))).toBeGreaterThan(0);

    const rejectedOllama = await postJson(`${busy.url}/api/chat`, {
      model: "slow",
      messages: [{ role: "user", content: "d" }],
    });
    expect(await ollamaError(rejectedOllama, 503)).toMatch(/busy/);
    expect(Number(rejectedOllama.headers.get("retry-after"))).toBeGreaterThan(0);

    const embed = await postJson(`${busy.url}/v1/embeddings`, { model: "slow", input: "x" });
    expect((await openAiError(embed, 429)).code).toBe("queue-full");

    abort.abort();
    await waitFor(
      () => queue.snapshot().queued === 0 && queue.snapshot().loaded[0]?.active === 0,
      "the queue to drain after the clients left",
    );
    // The server takes new work again.
    const ok = await postJson(`${busy.url}/v1/completions`, { model: "slow", prompt: "e", max_tokens: 1 });
    expect(ok.status).toBe(200);
    expect((await bodyOf(ok)).choices[0].text).toBe("tick");
  });

  it("a queued request whose client leaves frees its queue place", async () => {
    const { queue } = busy.server;
    const first = new AbortController();
    const second = new AbortController();
    const running = await postJson(
      `${busy.url}/v1/chat/completions`,
      { model: "slow", messages: [{ role: "user", content: "a" }], stream: true },
      { signal: first.signal },
    );
    expect(running.status).toBe(200);
    expect(queue.snapshot().loaded[0]?.active).toBe(1);
    postJson(
      `${busy.url}/v1/chat/completions`,
      { model: "slow", messages: [{ role: "user", content: "b" }] },
      { signal: second.signal },
    ).catch(() => {});
    await waitFor(() => queue.snapshot().queued === 1, "the second request to queue");
    second.abort();
    await waitFor(() => queue.snapshot().queued === 0, "the queued request to leave");
    const third = new AbortController();
    const queued = postJson(
      `${busy.url}/v1/chat/completions`,
      { model: "slow", messages: [{ role: "user", content: "c" }], max_tokens: 1 },
      { signal: third.signal },
    );
    await waitFor(() => queue.snapshot().queued === 1, "the third request to take the freed place");
    first.abort();
    const body: Json = await bodyOf(await queued);
    expect(body.choices[0].message.content).toBe("tick");
  });
});
