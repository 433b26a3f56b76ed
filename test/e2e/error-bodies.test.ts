/**
 * What clients see of a failure: no server path (models folder, home, temp folder), no stack
 * trace, no key. A corpus of bad requests against a server with a broken model file; every
 * response body is scanned.
 */
import { writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startTestServer, type TestServer } from "./helpers.js";

const adminKey = "corpus-admin-key-0123456789";

describe("error bodies sent to clients", () => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer({
      models: { alpha: {}, broken: {} },
      flags: { "api-keys": adminKey, "auth-failures-per-minute": "0" },
    });
    // Not a GGUF file: loading or showing it fails with the file's own error.
    writeFileSync(join(test.modelsDir, "broken.gguf"), "this is not a gguf file at all");
    writeFileSync(join(test.modelsDir, "truncated.gguf"), Buffer.from("GGUF\x03\x00\x00\x00"));
  });
  afterAll(async () => test.dispose());

  const auth = { authorization: `Bearer ${adminKey}` };
  const chat = (model: string, extra: Record<string, unknown> = {}) => ({
    model,
    messages: [{ role: "user", content: "hi" }],
    ...extra,
  });

  /** [label, request]: each one fails somewhere between the router and the model file. */
  const corpus: [string, () => Promise<Response>][] = [
    [
      "openai chat, broken model",
      () => postJson(`${test.url}/v1/chat/completions`, chat("broken"), { headers: auth }),
    ],
    [
      "openai chat stream, broken model",
      () => postJson(`${test.url}/v1/chat/completions`, chat("broken", { stream: true }), { headers: auth }),
    ],
    [
      "openai chat, truncated model",
      () => postJson(`${test.url}/v1/chat/completions`, chat("truncated"), { headers: auth }),
    ],
    [
      "openai chat, unknown model",
      () => postJson(`${test.url}/v1/chat/completions`, chat("nope"), { headers: auth }),
    ],
    [
      "openai chat, escaping name",
      () => postJson(`${test.url}/v1/chat/completions`, chat("../alpha"), { headers: auth }),
    ],
    [
      "openai completion, broken",
      () => postJson(`${test.url}/v1/completions`, { model: "broken", prompt: "x" }, { headers: auth }),
    ],
    [
      "openai embeddings, broken",
      () => postJson(`${test.url}/v1/embeddings`, { model: "broken", input: "x" }, { headers: auth }),
    ],
    ["openai bad json", () => postJson(`${test.url}/v1/chat/completions`, "{nope", { headers: auth })],
    [
      "ollama generate, broken",
      () => postJson(`${test.url}/api/generate`, { model: "broken", prompt: "x" }, { headers: auth }),
    ],
    [
      "ollama chat, broken, not streamed",
      () => postJson(`${test.url}/api/chat`, { ...chat("broken"), stream: false }, { headers: auth }),
    ],
    [
      "ollama generate, unknown",
      () => postJson(`${test.url}/api/generate`, { model: "nope", prompt: "x" }, { headers: auth }),
    ],
    ["ollama show, broken", () => postJson(`${test.url}/api/show`, { model: "broken" }, { headers: auth })],
    ["ollama show, unknown", () => postJson(`${test.url}/api/show`, { model: "nope" }, { headers: auth })],
    [
      "ollama show, escaping",
      () => postJson(`${test.url}/api/show`, { model: "../../etc/passwd" }, { headers: auth }),
    ],
    [
      "ollama embed, broken",
      () => postJson(`${test.url}/api/embed`, { model: "broken", input: "x" }, { headers: auth }),
    ],
    [
      "ollama load, broken",
      () => postJson(`${test.url}/api/generate`, { model: "broken" }, { headers: auth }),
    ],
    ["queue, unknown id", () => fetch(`${test.url}/v1/queue/nope`, { headers: auth })],
    ["unknown route", () => fetch(`${test.url}/v1/nope`, { headers: auth })],
    ["wrong method", () => fetch(`${test.url}/v1/models`, { method: "DELETE", headers: auth })],
    ["wrong key", () => fetch(`${test.url}/v1/models`, { headers: { authorization: "Bearer wrong" } })],
    ["model listing with broken files", () => fetch(`${test.url}/api/tags`, { headers: auth })],
    ["openai model listing", () => fetch(`${test.url}/v1/models`, { headers: auth })],
  ];

  it("never carry a server path, a stack trace or a key", async () => {
    const forbidden = [test.modelsDir, test.home, tmpdir(), homedir(), adminKey];
    let failures = 0;
    for (const [label, send] of corpus) {
      const response = await send();
      const body = await response.text();
      if (response.status >= 400) failures++;
      for (const text of forbidden) expect(body, `${label}: ${body}`).not.toContain(text);
      expect(body, label).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
    // The corpus really exercised failures, not only successes.
    expect(failures).toBeGreaterThanOrEqual(corpus.length - 3);
  });

  it("name the model instead of its file", async () => {
    const response = await postJson(`${test.url}/v1/chat/completions`, chat("broken"), { headers: auth });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("model-invalid");
    expect(body.error.message).toContain("broken.gguf");
  });
});
