/**
 * Ollama model management on the server: /api/pull streams NDJSON progress ending in success
 * (the `ollama` client's pull accepts it), /api/copy and /api/delete stay inside the models
 * folder, GET /v1/models/{id}; all admin-only once keys exist.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mayUse } from "../../src/api/access-rules.js";
import { auditPaths, queryAuditLog, type AuditRecord } from "../../src/ops/index.js";
import {
  postJson,
  readNdjson,
  startTestServer,
  storiesModelPath,
  type Json,
  type TestServer,
} from "./helpers.js";

describe("Ollama model management", () => {
  let test: TestServer;
  let files: Server;
  let filesUrl: string;

  beforeAll(async () => {
    const bytes = await readFile(storiesModelPath);
    files = createServer((request, response) => {
      if (request.url === "/models/tiny-story.gguf") {
        response.writeHead(200, { "content-length": bytes.length }).end(bytes);
      } else response.writeHead(404).end("no such file");
    });
    await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    test = await startTestServer({ models: { alpha: {} } });
  });
  afterAll(async () => {
    await test.dispose();
    await new Promise((resolve) => files.close(resolve));
  });

  const send = (method: string, path: string, body: unknown): Promise<Response> =>
    fetch(`${test.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const tags = async (): Promise<string[]> => {
    const body = (await (await fetch(`${test.url}/api/tags`)).json()) as { models: { name: string }[] };
    return body.models.map((model) => model.name);
  };

  it("pulls with NDJSON progress ending in success; the model is then listed; a second pull succeeds at once", async () => {
    const response = await postJson(`${test.url}/api/pull`, {
      name: `${filesUrl}/models/tiny-story.gguf`,
      stream: true,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = await readNdjson(response);
    expect(lines[0]).toEqual({ status: "pulling manifest" });
    const progress = lines.find(
      (line: Json) => line.completed !== undefined && String(line.digest).startsWith("sha256:"),
    );
    expect(progress.completed).toBe(progress.total);
    expect(lines.at(-1)).toEqual({ status: "success" });
    expect(await tags()).toContain("tiny-story");

    // The official client: pull resolves only when the stream ends with success.
    const ollama = new Ollama({ host: test.url });
    const final = await ollama.pull({ model: `${filesUrl}/models/tiny-story.gguf` });
    expect(final.status).toBe("success");
  });

  it("reports a failed download as an error line, and a bad source as a 400", async () => {
    const missing = await postJson(`${test.url}/api/pull`, { name: `${filesUrl}/models/missing.gguf` });
    const lines = await readNdjson(missing);
    expect(typeof lines.at(-1).error).toBe("string");
    expect(lines.some((line: Json) => line.status === "success")).toBe(false);

    const bad = await postJson(`${test.url}/api/pull`, { name: "llama3.2", stream: false });
    expect(bad.status).toBe(400);
    expect(typeof ((await bad.json()) as Json).error).toBe("string");
  });

  it("copies and deletes inside the models folder only", async () => {
    const ollama = new Ollama({ host: test.url });
    await ollama.copy({ source: "alpha", destination: "alpha-copy" });
    expect(await tags()).toContain("alpha-copy");
    const again = await send("POST", "/api/copy", { source: "alpha", destination: "alpha-copy" });
    expect(again.status).toBe(400);
    expect(((await again.json()) as Json).error).toMatch(/already exists/);
    for (const body of [
      { source: "alpha", destination: "../outside" },
      { source: "../../etc/passwd", destination: "x" },
      { source: "alpha", destination: "/tmp/x" },
    ]) {
      const refused = await send("POST", "/api/copy", body);
      expect(refused.status).toBe(400);
      expect(JSON.stringify(await refused.json())).not.toContain(test.modelsDir);
    }

    await ollama.delete({ model: "alpha-copy" });
    expect(await tags()).not.toContain("alpha-copy");
    expect((await send("DELETE", "/api/delete", { name: "alpha-copy" })).status).toBe(404);
    expect((await send("DELETE", "/api/delete", { name: "../alpha" })).status).toBe(400);
  });

  it("deletes a loaded model after unloading it", async () => {
    await send("POST", "/api/copy", { source: "alpha", destination: "loaded" });
    const generated = await postJson(`${test.url}/api/generate`, {
      model: "loaded",
      prompt: "hi",
      stream: false,
    });
    expect(generated.status).toBe(200);
    expect(test.server.queue.snapshot().loaded.map((model) => model.name)).toContain("loaded");
    expect((await send("DELETE", "/api/delete", { model: "loaded" })).status).toBe(200);
    expect(test.server.queue.snapshot().loaded.map((model) => model.name)).not.toContain("loaded");
    expect(await tags()).not.toContain("loaded");
  });

  it("answers GET /v1/models/{id}", async () => {
    const found = await fetch(`${test.url}/v1/models/alpha`);
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ id: "alpha", object: "model", owned_by: "rawrxd" });
    const missing = await fetch(`${test.url}/v1/models/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Json).error.code).toBe("model-not-found");
  });

  it("keeps pull, copy and delete for admin keys", () => {
    for (const [method, path] of [
      ["POST", "/api/pull"],
      ["POST", "/api/copy"],
      ["DELETE", "/api/delete"],
    ] as const) {
      expect(mayUse("user", { method, path })).toBe(false);
      expect(mayUse("admin", { method, path })).toBe(true);
    }
    expect(mayUse("user", { method: "GET", path: "/v1/models/alpha" })).toBe(true);
    expect(mayUse("user", { method: "POST", path: "/infill" })).toBe(true);
  });

  it("leaves a model record of each pull, copy and delete, naming the key (runs last: closes the server)", async () => {
    await test.server.close();
    const records: AuditRecord[] = [];
    for await (const record of queryAuditLog(auditPaths(test.home).directory)) records.push(record);
    const changes = records
      .filter((record) => record.type === "model" && ["pull", "copy", "delete"].includes(record.action))
      .map((record) => ({ action: record.action, object: record.object, keyId: record.keyId }));
    expect(changes).toEqual(
      expect.arrayContaining([
        { action: "pull", object: "tiny-story", keyId: expect.any(String) },
        { action: "copy", object: "alpha-copy", keyId: expect.any(String) },
        { action: "delete", object: "alpha-copy", keyId: expect.any(String) },
        { action: "copy", object: "loaded", keyId: expect.any(String) },
        { action: "delete", object: "loaded", keyId: expect.any(String) },
      ]),
    );
    const pulled = records.find((record) => record.type === "model" && record.action === "pull");
    expect(pulled?.details).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});
