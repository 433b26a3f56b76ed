/**
 * Inference records on the real engine (issue #11): requests through the OpenAI and Ollama
 * dialects with a managed user key leave `inference` records naming the key, the model, the
 * token counts the client was told and the outcome; a client that leaves mid-stream is
 * `cancelled`, a refused request `denied` or `failure` with its error code; the log verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import {
  auditPaths,
  queryAuditLog,
  readPublicKey,
  verifyAuditLog,
  type AuditRecord,
} from "../../src/ops/index.js";
import { bodyOf, rawPost, readNdjson, type Json } from "../e2e/helpers.js";
import { waitFor } from "../support/wait-for.js";
import { startModelServer, type ModelTestServer } from "./helpers.js";

let test: ModelTestServer;
let user: { key: string; id: string };
const ended: string[] = [];
const queued: string[] = [];

beforeAll(async () => {
  test = await startModelServer({ parallel: "1", "max-queue": "1" });
  test.server.events.on("request-end", (event) => ended.push(event.requestId));
  test.server.events.on("request-queued", (event) => queued.push(event.requestId));
  const io = createRecordingIo({ env: { RAWRXD_HOME: test.home } });
  const code = await main(["keys", "create", "--name", "app", "--role", "user"], io);
  expect(code, io.errors()).toBe(0);
  const key = io.output().trim();
  user = { key, id: key.slice(4, 16) };
});

afterAll(async () => {
  await test.dispose();
});

function post(path: string, body: unknown, id: string): Promise<Response> {
  return fetch(`${test.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${user.key}`, "x-request-id": id },
    body: JSON.stringify(body),
  });
}

/** The request's inference record, read the moment the response has ended (no waiting). */
async function recordOf(requestId: string): Promise<AuditRecord | undefined> {
  const records: AuditRecord[] = [];
  for await (const record of queryAuditLog(auditPaths(test.home).directory, {
    types: ["inference"],
    requestId,
  }))
    records.push(record);
  expect(records.length).toBeLessThanOrEqual(1);
  return records[0];
}

describe("inference records on the real engine", () => {
  it("OpenAI chat, non-streamed: key id, model, the usage the client saw, success", async () => {
    const response = await post(
      "/v1/chat/completions",
      {
        model: "stories260K",
        messages: [{ role: "user", content: "Tell me a story" }],
        max_tokens: 24,
        temperature: 0,
      },
      "audit-openai",
    );
    expect(response.status).toBe(200);
    const body = await bodyOf(response);
    const record = await recordOf("audit-openai");
    expect(record).toMatchObject({ keyId: user.id, object: "stories260K", outcome: "success" });
    expect(record!.details).toMatchObject({
      promptTokens: body.usage.prompt_tokens,
      completionTokens: body.usage.completion_tokens,
      parameters: { maxTokens: 24, temperature: 0 },
    });
    expect(record!.details["promptSha256"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("OpenAI completions, streamed with usage: the record matches the usage chunk", async () => {
    const response = await post(
      "/v1/completions",
      {
        model: "stories260K",
        prompt: "Once upon a time",
        max_tokens: 16,
        stream: true,
        stream_options: { include_usage: true },
      },
      "audit-openai-stream",
    );
    const text = await response.text();
    const chunks: Json[] = text
      .split("\n\n")
      .map((frame) => frame.replace(/^data: /, ""))
      .filter((frame) => frame.startsWith("{"))
      .map((frame): Json => JSON.parse(frame));
    const usage: Json = chunks.find((chunk: Json) => chunk.usage != null)?.usage;
    expect(text).toContain("[DONE]");
    expect((await recordOf("audit-openai-stream"))?.details).toMatchObject({
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      finishReason: "length",
    });
  });

  it("Ollama generate, streamed: counts match the done line", async () => {
    const response = await post(
      "/api/generate",
      { model: "stories260K", prompt: "The little dog", options: { num_predict: 12, temperature: 0 } },
      "audit-ollama",
    );
    const lines = await readNdjson(response);
    const done = lines.at(-1);
    expect(done.done).toBe(true);
    const record = await recordOf("audit-ollama");
    expect(record).toMatchObject({ keyId: user.id, object: "stories260K", outcome: "success" });
    // Ollama counts only the prompt tokens it evaluated, not those reused from the cache.
    const details: Json = record!.details;
    expect(details.promptTokens - details.cachedTokens).toBe(done.prompt_eval_count);
    expect(details.completionTokens).toBe(done.eval_count);
  });

  it("a client that leaves mid-stream leaves a cancelled record; a full queue a denied one", async () => {
    const long = { model: "stories260K", prompt: "Once upon a time", stream: true, max_tokens: 400 };
    const running = rawPost(`${test.url}/v1/completions`, long, {
      authorization: `Bearer ${user.key}`,
      "x-request-id": "audit-running",
    });
    const first = await running.response;
    await new Promise((done) => first.once("data", done));
    const waiting = rawPost(`${test.url}/v1/completions`, long, {
      authorization: `Bearer ${user.key}`,
      "x-request-id": "audit-waiting",
    });
    await waitFor(() => queued.includes("audit-waiting"), "the second request to queue", 10_000);
    const refused = await post("/v1/completions", long, "audit-refused");
    expect(refused.status).toBe(429);
    expect((await bodyOf(refused)).error.code).toBe("queue-full");
    expect(await recordOf("audit-refused")).toMatchObject({
      keyId: user.id,
      outcome: "denied",
      details: { finishReason: "rejected", errorCode: "queue-full" },
    });
    running.destroy();
    waiting.destroy();
    await waitFor(
      () => ended.includes("audit-running") && ended.includes("audit-waiting"),
      "both to end",
      10_000,
    );
    const cancelled = await waitFor(() => recordOf("audit-running"), "the cancelled record", 10_000);
    expect(cancelled).toMatchObject({
      keyId: user.id,
      outcome: "cancelled",
      details: { finishReason: "cancelled" },
    });
    expect(cancelled.details["completionTokens"]).toBeGreaterThan(0);
  });

  it("an unknown model is a failure with its error code, and the whole log verifies", async () => {
    const response = await post(
      "/api/generate",
      { model: "no-such-model", prompt: "x", stream: false },
      "audit-bad",
    );
    expect(response.status).toBe(404);
    await response.arrayBuffer();
    expect(await recordOf("audit-bad")).toMatchObject({
      outcome: "failure",
      details: { errorCode: "model-not-found" },
    });
    // Stopped, the log ends with a signed checkpoint: nothing is left unsigned.
    await test.server.close();
    const paths = auditPaths(test.home);
    const report = await verifyAuditLog({
      directory: paths.directory,
      publicKey: await readPublicKey(paths.publicKey),
    });
    expect(report.findings).toEqual([]);
    expect(report.intact).toBe(true);
  });
});
