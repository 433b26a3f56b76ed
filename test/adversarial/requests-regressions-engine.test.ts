/**
 * A defect the request fuzzer found on the real engine only (FakeEngine ignores grammars): a
 * 100,000-deep JSON schema in `format` / `response_format` overflowed the stack on its way to
 * the runner and answered 500. Now the API edge refuses it with a 400 naming the field. Beside
 * it, hostile prompts the fuzzer sends that only the real tokenizer sees: lone surrogates,
 * invalid UTF-8 and prompts longer than the context.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startModelServer, type ModelTestServer } from "../model/helpers.js";

let test: ModelTestServer;
beforeAll(async () => {
  test = await startModelServer();
});
afterAll(() => test?.dispose());

const deepSchema = (depth: number): string =>
  '{"type":"object","properties":{"a":'.repeat(depth) + '{"type":"string"}' + "}}".repeat(depth);

describe("request fuzzer regressions on the real engine", () => {
  it.each([
    [
      "/api/generate",
      "format",
      (schema: string) => `{"model":"stories260K","prompt":"hi","stream":false,"format":${schema}}`,
    ],
    [
      "/v1/chat/completions",
      "response_format",
      (schema: string) =>
        `{"model":"stories260K","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${schema}}}}`,
    ],
  ])("%s: a 100,000-deep schema is a 400 naming %s, and the server stays up", async (path, field, body) => {
    const response = await fetch(`${test.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(deepSchema(100_000)),
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain(field);
    expect(text).toContain("nested more than 100 levels");
    expect((await fetch(`${test.url}/health`)).status).toBe(200);
  });

  it.each([
    ["a lone surrogate", Buffer.from('{"model":"stories260K","prompt":"a\\ud800b","max_tokens":4}')],
    [
      "invalid UTF-8 bytes",
      Buffer.concat([
        Buffer.from('{"model":"stories260K","prompt":"a'),
        Buffer.from([0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
        Buffer.from('b","max_tokens":4}'),
      ]),
    ],
  ])(
    "a prompt with %s reaches the tokenizer and is answered (replacement characters), not a 5xx",
    async (_what, body) => {
      const response = await fetch(`${test.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(200);
      expect(
        ((await response.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens,
      ).toBe(4);
    },
  );

  it("a prompt longer than the context is a 400 that says so, in both dialects", async () => {
    const prompt = "Once upon a time ".repeat(400);
    for (const [path, body] of [
      ["/v1/completions", { model: "stories260K", prompt, max_tokens: 4 }],
      ["/api/generate", { model: "stories260K", prompt, stream: false }],
    ] as const) {
      const response = await fetch(`${test.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/prompt is \d+ tokens/);
    }
  });
});
