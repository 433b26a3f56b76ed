/**
 * The request shapes Continue, Cline, llama.vscode and ollama-js send (test/fixtures/ide/), sent
 * as they are to a server with a FIM-capable synthetic model, and the answers read the way each
 * client reads them.
 */
import { readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticModelShapes, writeFimModel } from "../../src/gguf/index.js";
import { sseData, startModelServer, storiesPath, type ModelTestServer } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(resolve(process.cwd(), "test/fixtures/ide", `${name}.json`), "utf8"));

/** Continue (core/llm/llms/Ollama.ts) and Cline read NDJSON lines; a line with `error` throws. */
function ndjsonAsContinue(text: string): Json[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line): Json => {
      const value: Json = JSON.parse(line);
      if ("error" in value) throw new Error(String(value.error));
      return value;
    });
}

/** The OpenAI SDK's stream: data lines until [DONE] (with or without a space); `error` throws. */
function sseAsOpenAi(text: string): Json[] {
  const chunks: Json[] = [];
  for (const data of sseData(text.replaceAll("data:[DONE]", "data: [DONE]"))) {
    if (data === "[DONE]") return chunks;
    const value: Json = JSON.parse(data);
    if (value.error !== undefined) throw new Error(String(value.error.message));
    chunks.push(value);
  }
  throw new Error("the stream ended without [DONE]");
}

describe("IDE clients' request shapes", () => {
  let test: ModelTestServer;
  let files: Server;
  let filesUrl: string;
  const post = (path: string, body: unknown, method = "POST"): Promise<Response> =>
    fetch(`${test.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    test = await startModelServer({ parallel: "1", "no-demo-model": "true" });
    // Only the FIM model: llama.vscode sends no model name, so the only installed model answers.
    rmSync(join(test.modelsDir, "stories260K.gguf"));
    await writeFimModel(join(test.modelsDir, "coder.gguf"), syntheticModelShapes.tiny);
    const bytes = readFileSync(storiesPath);
    files = createServer((_request, response) =>
      response.writeHead(200, { "content-length": bytes.length }).end(bytes),
    );
    await new Promise<void>((done) => files.listen(0, "127.0.0.1", done));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await test.dispose();
    await new Promise((done) => files.close(done));
  });

  it("Continue: /api/show {name} has .Suffix in its template, so FIM is on; FIM /api/generate streams NDJSON", async () => {
    const show = (await (await post("/api/show", fixture("continue-ollama-show"))).json()) as Json;
    expect(String(show.template).includes(".Suffix")).toBe(true);
    const response = await post("/api/generate", fixture("continue-ollama-fim-generate"));
    expect(response.status).toBe(200);
    const lines = ndjsonAsContinue(await response.text());
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => typeof line.response === "string")).toBe(true);
  });

  it("Continue's OpenAI provider: FIM tokens in a plain /v1/completions prompt stream to [DONE]", async () => {
    const response = await post("/v1/completions", {
      ...fixture("continue-openai-fim-completions"),
      max_tokens: 16,
    });
    expect(response.status).toBe(200);
    const chunks = sseAsOpenAi(await response.text());
    expect(chunks.every((chunk) => typeof chunk.choices[0]?.text === "string")).toBe(true);
  });

  it("Cline: OpenAI chat with tools refused clearly on a template without tools, usage at the end without them; Ollama chat with num_ctx", async () => {
    // Cline always sends tools: a model whose template cannot render them says so (400) instead of
    // ignoring them (test/model/tool-calls.test.ts runs the same shape on tool-capable templates).
    const refused = await post("/v1/chat/completions", { ...fixture("cline-openai-chat"), max_tokens: 8 });
    expect(refused.status).toBe(400);
    const error = ((await refused.json()) as Json).error;
    expect(error.code).toBe("tools-not-supported");
    expect(error.message).toMatch(/coder/);
    const { tools: _tools, tool_choice: _choice, ...withoutTools } = fixture("cline-openai-chat");
    const response = await post("/v1/chat/completions", { ...withoutTools, max_tokens: 8 });
    expect(response.status).toBe(200);
    const chunks = sseAsOpenAi(await response.text());
    const usage = chunks.at(-1).usage;
    expect(usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(0);
    const ollama = await post("/api/chat", {
      ...fixture("cline-ollama-chat"),
      options: { num_ctx: 32768, num_predict: 8 },
    });
    expect(ollama.status).toBe(200);
    const lines = ndjsonAsContinue(await ollama.text());
    expect(lines.at(-1).done).toBe(true);
  });

  it("llama.vscode: /props gives n_ctx; warm-up, then n_cmpl 3 answers an array of {content}", async () => {
    const props = (await (await fetch(`${test.url}/props`)).json()) as Json;
    expect(props.default_generation_settings.n_ctx).toBe(512);
    const warmUp = (await (await post("/infill", fixture("llama-vscode-infill-warmup"))).json()) as Json;
    expect(warmUp.content).toBe("");
    const response = await post("/infill", { ...fixture("llama-vscode-infill"), n_predict: 8 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    const contents = (Array.isArray(body) ? body : [body]).map((item: Json) => item.content as unknown);
    expect(contents).toHaveLength(3);
    expect(contents.every((content) => typeof content === "string")).toBe(true);
  });

  it("ollama-js: pull ends with success; copy and delete answer 200", async () => {
    const pull = await post("/api/pull", {
      ...fixture("ollama-js-pull"),
      name: `${filesUrl}/tiny-story.gguf`,
    });
    expect(ndjsonAsContinue(await pull.text()).at(-1)).toEqual({ status: "success" });
    expect((await post("/api/copy", fixture("ollama-js-copy"))).status).toBe(200);
    expect((await post("/api/delete", fixture("ollama-js-delete"), "DELETE")).status).toBe(200);
  });
});
