/**
 * Defects the request fuzzer found, each kept as its own case: a server path in a 2xx body a user
 * key can read, and requests Node's HTTP parser refuses answered without a JSON error body.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startTestServer, type TestServer } from "../e2e/helpers.js";
import { leaks } from "./requests-fuzz-check.testing.js";

const adminKey = "rxd_regression_admin_key_0123";
let test: TestServer;
let userKey: string;

beforeAll(async () => {
  test = await startTestServer({ flags: { "api-keys": adminKey } });
  const made = await postJson(
    `${test.url}/v1/admin/keys`,
    { name: "user", role: "user" },
    { headers: { authorization: `Bearer ${adminKey}` } },
  );
  userKey = ((await made.json()) as { key: string }).key;
});

afterAll(() => test?.dispose());

/** Writes raw bytes on a fresh connection and returns everything the server sends until it closes. */
function rawExchange(bytes: string | Buffer): Promise<string> {
  const { port } = new URL(test.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", reject);
    socket.once("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.end(bytes);
  });
}

function jsonBodyOf(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
}

describe("request fuzzer regressions", () => {
  it("POST /api/show names the model file, not where the server keeps it (user key)", async () => {
    const response = await postJson(
      `${test.url}/api/show`,
      { model: "alpha" },
      { headers: { authorization: `Bearer ${userKey}` } },
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(leaks(text, test.home)).toBeUndefined();
    expect((JSON.parse(text) as { modelfile: string }).modelfile).toContain("FROM alpha.gguf\n");
  });

  it.each([
    ["/api/generate", "format", '{"model":"alpha","prompt":"hi","stream":false,"format":X}'],
    [
      "/v1/chat/completions",
      "tools",
      '{"model":"alpha","messages":[{"role":"user","content":"hi"}],"tools":[X]}',
    ],
    ["/v1/completions", "body", "[X]"],
  ])(
    "%s: 100,000-deep JSON in %s is a 400 naming it, before anything recurses into it",
    async (path, field, template) => {
      const deep = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
      const response = await postJson(`${test.url}${path}`, template.replace("X", deep), {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(text).toContain(field);
      expect(text).toContain("nested more than 100 levels");
    },
  );

  it.each(["since=99999999999999999999", "until=99999999999999999999d"])(
    "GET /v1/audit?%s (beyond what a Date holds) is a 400 naming the parameter, not a 500",
    async (query) => {
      const response = await fetch(`${test.url}/v1/audit?${query}`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { param: string } }).error.param).toBe(query.split("=")[0]);
    },
  );

  it.each([
    [
      "/v1/chat/completions",
      "stop",
      (stop: string[]) => ({ model: "alpha", messages: [{ role: "user", content: "hi" }], stop }),
    ],
    [
      "/api/generate",
      "options.stop",
      (stop: string[]) => ({ model: "alpha", prompt: "hi", options: { stop } }),
    ],
  ])("%s: 10,000 stop strings are a 400 naming %s and the cap", async (path, field, body) => {
    const stop = Array.from({ length: 10_000 }, (_, index) => `s${index}`);
    const response = await postJson(`${test.url}${path}`, body(stop), {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain(field);
    expect(text).toContain("at most 16 stop strings");
  });

  it.each([
    {
      path: "/api/generate",
      field: "format",
      body: { model: "alpha", prompt: "hi", format: -0.5 },
      expected: 'expected "json" or a JSON schema',
    },
    {
      path: "/api/generate",
      field: "keep_alive",
      body: { model: "alpha", prompt: "hi", keep_alive: [] },
      expected: "expected a duration",
    },
    {
      path: "/v1/completions",
      field: "prompt",
      body: { model: "alpha", prompt: ["a", "b"] },
      expected: "only 1 prompt per request",
    },
    {
      path: "/v1/embeddings",
      field: "input",
      body: { model: "alpha", input: [] },
      expected: "expected 1 to 2048 inputs",
    },
    {
      path: "/api/embed",
      field: "input",
      body: { model: "alpha", input: Array.from({ length: 3000 }, () => "x") },
      expected: "expected 1 to 2048 inputs",
    },
  ])(
    '$path: a wrong $field says what was expected, not zod\'s bare "Invalid input"',
    async ({ path, field, body, expected }) => {
      const response = await postJson(`${test.url}${path}`, body, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: string | { message: string } };
      const message = typeof error === "string" ? error : error.message;
      expect(message).toContain(field);
      expect(message).toContain(expected);
    },
  );

  it("headers over --max-header-bytes get 431 with a JSON error body", async () => {
    const raw = await rawExchange(
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${"f".repeat(20_000)}\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw).toContain("Content-Type: application/json");
    expect(jsonBodyOf(raw)).toEqual({
      error: expect.objectContaining({
        code: "headers-too-large",
        message: expect.stringContaining("--max-header-bytes"),
      }),
    });
  });

  it("a HEAD request refused by the parser gets the status without a body", async () => {
    const raw = await rawExchange(
      `HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${"f".repeat(20_000)}\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw.endsWith("\r\n\r\n")).toBe(true);
  });

  it.each([
    ["a malformed request line", "GARBAGE\r\n\r\n"],
    [
      "a header with a byte HTTP forbids",
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\u0001b\r\n\r\n",
    ],
    [
      "a broken chunked body",
      "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
  ])("%s gets 400 with a JSON error body naming no parser internals", async (_what, request) => {
    const raw = await rawExchange(request);
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = jsonBodyOf(raw) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("bad-request");
    expect(leaks(raw, test.home)).toBeUndefined();
    // The server is still serving.
    expect(
      (await fetch(`${test.url}/health`, { headers: { authorization: `Bearer ${adminKey}` } })).status,
    ).toBe(200);
  });
});
