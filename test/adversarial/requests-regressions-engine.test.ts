/**
 * A defect the request fuzzer found on the real engine only (FakeEngine ignores grammars): a
 * 100,000-deep JSON schema in `format` / `response_format` overflowed the stack on its way to
 * the runner and answered 500. Now the API edge refuses it with a 400 naming the field.
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
});
