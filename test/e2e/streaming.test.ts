/**
 * Streaming behaviour end to end: client disconnects, backpressure from a slow reader, SSE
 * heartbeats, and a runner crash in the middle of a stream.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import {
  bodyOf,
  chatContent,
  keysOf,
  parseSse,
  postJson,
  rawPost,
  readAll,
  readNdjson,
  readSse,
  sleep,
  sseJson,
  startTestServer,
  type TestServer,
  waitFor,
} from "./helpers.js";

const longReply = Array.from({ length: 200 }, (_, index) => `d${index}`).join(" ");
const floodTokens = 30_000;
// Long words make each SSE chunk ~700 bytes, so the kernel's socket buffers (up to 4 MB each
// way with autotuning) hold only a few thousand tokens of the 30,000 while nobody reads.
const floodWords = Array.from({ length: floodTokens }, (_, index) => `w${index}`.padEnd(512, "x"));

let test: TestServer;
let url: string;

beforeAll(async () => {
  test = await startTestServer({
    models: {
      drip: { reply: longReply, tokenDelayMs: 10 },
      flood: { reply: floodWords.join(" ") },
      sleepy: { reply: "slow steady", tokenDelayMs: 350 },
      "crash-sse": { reply: "one two three four five six", crashAfterTokens: 3 },
      "crash-ndjson": { reply: "one two three four five six", crashAfterTokens: 3 },
      killable: { reply: longReply, tokenDelayMs: 10 },
      early: { reply: longReply, tokenDelayMs: 200 },
      "early-ollama": { reply: longReply, tokenDelayMs: 200 },
    },
    flags: { parallel: "1", heartbeat: "100ms", "max-loaded-models": "16" },
  });
  url = test.url;
});

afterAll(async () => {
  await test.dispose();
});

const view = (model: string) => test.server.queue.snapshot().loaded.find((loaded) => loaded.name === model);
const produced = (model: string): number => test.engine.runnerFor(model)?.producedTokens ?? 0;

describe("client disconnect mid-stream", () => {
  it.each([
    ["SSE", "/v1/chat/completions"],
    ["NDJSON", "/api/chat"],
  ])("%s: generation stops within ~100 ms and the sequence is free again", async (_label, path) => {
    const request = rawPost(`${url}${path}`, {
      model: "drip",
      messages: [{ role: "user", content: "go" }],
      stream: true,
    });
    const response = await request.response;
    expect(response.statusCode).toBe(200);
    await new Promise((done) => response.once("data", done));
    const atDisconnect = produced("drip");
    request.destroy();
    await sleep(100);
    const settled = produced("drip");
    // At most a token or two were in flight when the socket closed.
    expect(settled - atDisconnect).toBeLessThanOrEqual(3);
    await sleep(200);
    expect(produced("drip")).toBe(settled);
    await waitFor(() => view("drip")?.active === 0, "the sequence to be released", 500);

    // parallel is 1: a following request gets the sequence at once.
    const started = systemTime.monotonicNow();
    const next = await postJson(`${url}/v1/chat/completions`, {
      model: "drip",
      messages: [{ role: "user", content: "again" }],
      max_tokens: 3,
    });
    expect((await bodyOf(next)).choices[0].message.content).toBe("d0 d1 d2");
    expect(systemTime.monotonicNow() - started).toBeLessThan(500);
    expect(view("drip")?.active).toBe(0);
  });

  it("the openai client breaking out of for await frees the sequence", async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "drip",
      messages: [{ role: "user", content: "go" }],
      stream: true,
    });
    let content = "";
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      if (content.length > 0) break;
    }
    expect(content).toBe("d0");
    await waitFor(() => view("drip")?.active === 0, "the sequence to be released", 500);
    const atRelease = produced("drip");
    await sleep(150);
    expect(produced("drip")).toBe(atRelease);
  });

  // Regression: a client that leaves before the first token (before the response head) must
  // not keep its sequence. The HTTP adapter watches the socket only once it writes the body, so
  // frameStream ends the generation on the request's abort signal (src/api/event-stream.ts).
  it.each([
    ["SSE", "/v1/chat/completions", "early"],
    ["NDJSON", "/api/chat", "early-ollama"],
  ])(
    "%s: a client that leaves before the first token does not keep the sequence",
    async (_label, path, model) => {
      const request = rawPost(`${url}${path}`, {
        model,
        messages: [{ role: "user", content: "go" }],
        stream: true,
      });
      await waitFor(() => view(model)?.active === 1, "the request to take the sequence");
      request.destroy();
      // A fixed server notices within one token delay (200 ms).
      await waitFor(() => view(model)?.active === 0, "the sequence to be released", 800);
    },
  );
});

describe("backpressure", () => {
  it("a reader that does not read pauses generation; reading later gets every token", async () => {
    const request = rawPost(`${url}/v1/completions`, {
      model: "flood",
      prompt: "go",
      stream: true,
      stream_options: { include_usage: true },
    });
    const response = await request.response;
    response.pause();
    await sleep(500);
    const paused = produced("flood");
    // A few socket and stream buffers' worth, nowhere near the whole reply.
    expect(paused).toBeGreaterThan(0);
    expect(paused).toBeLessThan(floodTokens / 3);
    await sleep(100);
    expect(produced("flood")).toBe(paused);

    const stream = parseSse(await readAll(response));
    expect(stream.data.at(-1)).toBe("[DONE]");
    const chunks = sseJson(stream);
    expect(chunks.at(-1)!.usage.completion_tokens).toBe(floodTokens);
    const texts = chunks.slice(0, -2).map((chunk) => chunk.choices[0].text as string);
    expect(texts).toHaveLength(floodTokens);
    expect(
      texts.every((text, index) => text === (index === 0 ? floodWords[0] : ` ${floodWords[index]}`)),
    ).toBe(true);
    expect(produced("flood")).toBe(floodTokens);
  });
});

describe("SSE heartbeat", () => {
  it("sends `: ping` comments while the model is silent, and clients ignore them", async () => {
    const response = await postJson(`${url}/v1/chat/completions`, {
      model: "sleepy",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const stream = await readSse(response);
    expect(stream.raw).toMatch(/^: ping$/m);
    // ~350 ms between tokens, a ping every 100 ms of silence.
    expect(stream.comments.filter((comment) => comment === "ping").length).toBeGreaterThanOrEqual(2);
    expect(chatContent(sseJson(stream))).toBe("slow steady");
    expect(stream.data.at(-1)).toBe("[DONE]");

    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });
    const sdkStream = await client.chat.completions.create({
      model: "sleepy",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let content = "";
    for await (const chunk of sdkStream) content += chunk.choices[0]?.delta.content ?? "";
    expect(content).toBe("slow steady");
  });

  it("NDJSON streams carry no heartbeat lines", async () => {
    const lines = await readNdjson(await postJson(`${url}/api/generate`, { model: "sleepy", prompt: "hi" }));
    expect(lines.map((line) => line.response as string).join("")).toBe("slow steady");
  });
});

describe("runner crash mid-stream", () => {
  it("SSE: the stream ends with a data error event; the server stays up and reloads on the next request", async () => {
    const crashes: string[] = [];
    const unsubscribe = test.server.events.on("runner-crashed", (event) => crashes.push(event.model));
    try {
      const response = await postJson(`${url}/v1/chat/completions`, {
        model: "crash-sse",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      });
      expect(response.status).toBe(200);
      const stream = await readSse(response);
      expect(stream.data).not.toContain("[DONE]");
      const last = JSON.parse(stream.data.at(-1)!) as {
        error: { message: string; type: string; code: string };
      };
      expect(last.error.message).toMatch(/runner for "crash-sse" crashed/);
      expect(last.error).toMatchObject({ type: "api_error", code: "runner-crashed" });
      const chunks = sseJson(stream).slice(0, -1);
      expect(chatContent(chunks)).toBe("one two three");
      expect(chunks.every((chunk) => chunk.choices[0].finish_reason === null)).toBe(true);
      expect(crashes).toEqual(["crash-sse"]);

      expect((await fetch(`${url}/health`)).status).toBe(200);
      const loads = test.engine.loads;
      test.engine.setBehaviour("crash-sse", { reply: "all good now" });
      const next = await bodyOf(
        await postJson(`${url}/v1/chat/completions`, {
          model: "crash-sse",
          messages: [{ role: "user", content: "hi" }],
        }),
      );
      expect(next.choices[0].message.content).toBe("all good now");
      expect(test.engine.loads).toBe(loads + 1);
    } finally {
      unsubscribe();
    }
  });

  it("the official openai client surfaces the error event as an APIError", async () => {
    test.engine.setBehaviour("crash-sse", { reply: "one two three four five", crashAfterTokens: 1 });
    await postJson(`${url}/api/generate`, { model: "crash-sse", keep_alive: 0 }).then((response) =>
      response.arrayBuffer(),
    );
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "crash-sse",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let content = "";
    const error: unknown = await (async () => {
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/crashed/);
    expect(content).toBe("one");
  });

  it("NDJSON: the stream ends with an error line; the next request reloads and succeeds", async () => {
    const response = await postJson(`${url}/api/chat`, {
      model: "crash-ndjson",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(response.status).toBe(200);
    const lines = await readNdjson(response);
    const last = lines.at(-1)!;
    expect(keysOf(last)).toEqual(["error"]);
    expect(last.error).toMatch(/runner for "crash-ndjson" crashed/);
    expect(
      lines
        .slice(0, -1)
        .map((line) => line.message.content as string)
        .join(""),
    ).toBe("one two three");
    expect(lines.some((line) => line.done === true)).toBe(false);

    expect((await fetch(`${url}/health`)).status).toBe(200);
    const loads = test.engine.loads;
    test.engine.setBehaviour("crash-ndjson", {});
    const next = await bodyOf(
      await postJson(`${url}/api/chat`, {
        model: "crash-ndjson",
        messages: [{ role: "user", content: "hi" }],
        stream: false,
      }),
    );
    expect(next.done).toBe(true);
    expect(test.engine.loads).toBe(loads + 1);
  });

  it("a crash during a non-streaming request is a 500 naming the crash", async () => {
    const pending = postJson(`${url}/v1/chat/completions`, {
      model: "killable",
      messages: [{ role: "user", content: "hi" }],
    });
    await waitFor(() => produced("killable") >= 2, "generation to start");
    test.engine.runnerFor("killable")!.crash("killed by the test");
    const response = await pending;
    expect(response.status).toBe(500);
    const body = await bodyOf(response);
    expect(body.error).toMatchObject({ type: "api_error", code: "runner-crashed" });
    expect(body.error.message).toContain("killed by the test");

    const ollama = postJson(`${url}/api/generate`, { model: "killable", prompt: "hi", stream: false });
    await waitFor(
      () => (test.engine.runnerFor("killable")?.producedTokens ?? 0) >= 2,
      "generation to start again",
    );
    test.engine.runnerFor("killable")!.crash("killed again");
    const ollamaResponse = await ollama;
    expect(ollamaResponse.status).toBe(500);
    expect((await bodyOf(ollamaResponse)).error).toContain("killed again");
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
