/**
 * The engine's text-delta events carry token ids (FakeEngine's too); no HTTP response shows
 * them, streamed or not, in the OpenAI or the Ollama shape.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startTestServer, type TestServer } from "./helpers.js";

let test: TestServer;

beforeAll(async () => {
  test = await startTestServer({ models: { alpha: { reply: "one two three four five" } } });
});

afterAll(async () => {
  await test.dispose();
});

const messages = [{ role: "user", content: "Count." }];
const routes: [string, Record<string, unknown>][] = [
  ["/v1/completions", { prompt: "Count." }],
  ["/v1/chat/completions", { messages }],
  ["/api/generate", { prompt: "Count." }],
  ["/api/chat", { messages }],
];

describe("token ids stay inside the server", () => {
  it.each(routes.flatMap(([path, body]) => [true, false].map((stream) => [path, body, stream] as const)))(
    "%s (stream %s)",
    async (path, body, stream) => {
      const response = await postJson(`${test.url}${path}`, { model: "alpha", stream, ...body });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain("three");
      expect(text.toLowerCase()).not.toMatch(/token_?ids/);
    },
  );
});
