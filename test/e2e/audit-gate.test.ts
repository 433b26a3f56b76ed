/**
 * The audit gate on the serving path (issue #11, ADR 0014): a request's `inference` record is on
 * disk before its response ends (streamed or not, refused or not); fail-closed refuses inference
 * with 503 while the log cannot be written and ends a request whose record failed with an error;
 * not fail-closed keeps serving and reports the degradation. Faults come from an injected file
 * port (tests run as root: chmod would not stop a write).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { promptSha256 } from "../../src/app/inference-audit.js";
import type { ServerEvents } from "../../src/core/index.js";
import { testFiles, type TestFiles } from "../../src/ops/audit/audit-files.testing.js";
import type { AuditRecord } from "../../src/ops/index.js";
import {
  bodyOf,
  parseSse,
  postJson,
  readAll,
  rawPost,
  startTestServer,
  waitFor,
  type TestServer,
} from "./helpers.js";

let test: TestServer | undefined;
afterEach(async () => {
  await test?.dispose();
  test = undefined;
});

async function start(
  flags: Record<string, string>,
  files: TestFiles,
  reply = "one two three",
): Promise<TestServer> {
  test = await startTestServer({
    models: { alpha: { reply, tokenDelayMs: 5 } },
    flags: { "auth-failures-per-minute": "0", ...flags },
    openAuditSegmentFile: files.open,
  });
  return test;
}

/** Inference records in what the injected disk made durable. */
function durableInference(files: TestFiles): AuditRecord[] {
  return files.durable
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as AuditRecord)
    .filter((record) => record.type === "inference");
}

function inferenceRecordsOnDisk(home: string): AuditRecord[] {
  const directory = join(home, "audit");
  return readdirSync(directory)
    .filter((name) => name.endsWith(".jsonl") && name !== "checkpoints.jsonl")
    .flatMap((name) => readFileSync(join(directory, name), "utf8").split("\n"))
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as AuditRecord)
    .filter((record) => record.type === "inference");
}

/** Reads a streamed body as it arrives: `text()` is what came so far, `done` the whole body. */
function readInBackground(response: Response): { text(): string; done: Promise<string> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of response.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
    return text;
  })();
  return { text: () => text, done };
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: "alpha",
  messages: [{ role: "user", content }],
  max_tokens: 8,
  ...extra,
});

describe("inference records reach the disk before the response ends", () => {
  it("holds a non-streamed reply until its record is fsynced, and records parameters and the prompt's SHA-256", async () => {
    const files = testFiles();
    const server = await start({}, files);
    const ended: ServerEvents["request-end"][] = [];
    server.server.events.on("request-end", (event) => ended.push(event));
    files.hold();
    let isAnswered = false;
    const answer = postJson(
      `${server.url}/v1/chat/completions`,
      chat("hello there", { temperature: 0.5, top_p: 0.9, seed: 7 }),
      { headers: { "x-request-id": "held-1" } },
    ).then((response) => {
      isAnswered = true;
      return response;
    });
    await waitFor(() => ended.length === 1, "the generation to end");
    // A full HTTP round trip later the reply is still held: its record is not durable yet.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(isAnswered).toBe(false);
    files.release();
    const response = await answer;
    expect(response.status).toBe(200);
    const [record] = durableInference(files);
    expect(record).toMatchObject({ requestId: "held-1", outcome: "success", object: "alpha" });
    expect(record!.details).toMatchObject({
      promptSha256: promptSha256({ kind: "chat", messages: [{ role: "user", content: "hello there" }] }),
      parameters: { maxTokens: 8, temperature: 0.5, topP: 0.9, seed: 7, stopCount: 0, json: false },
    });
    expect(record!.details).not.toHaveProperty("content");
    expect(JSON.stringify(record)).not.toContain("hello there");
    await response.arrayBuffer();
  });

  it("sends [DONE] and Ollama's done line only after the record is durable", async () => {
    const files = testFiles();
    const server = await start({}, files);
    const ended: string[] = [];
    server.server.events.on("request-end", (event) => ended.push(event.requestId));
    for (const [path, body] of [
      ["/v1/chat/completions", chat("streamed", { stream: true })],
      ["/api/generate", { model: "alpha", prompt: "streamed", stream: true }],
    ] as const) {
      files.hold();
      const response = await postJson(`${server.url}${path}`, body);
      const id = response.headers.get("x-request-id")!;
      const reading = readInBackground(response);
      await waitFor(() => ended.includes(id), "the generation to end");
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const last = path.startsWith("/v1") ? /\[DONE\]/ : /"done":true/;
      // The generation is over, but its record is not durable: the last line is held back.
      expect(reading.text()).not.toMatch(last);
      files.release();
      expect(await reading.done).toMatch(last);
      expect(durableInference(files).find((record) => record.requestId === id)).toMatchObject({
        outcome: "success",
      });
    }
  });

  it("lets concurrent requests share fsyncs (group commit): 8 records, at most 2 fdatasyncs", async () => {
    const files = testFiles();
    test = await startTestServer({
      models: { alpha: { reply: "one two three", tokenDelayMs: 5 } },
      flags: { parallel: "8", "max-queue": "16" },
      openAuditSegmentFile: files.open,
    });
    const server = test;
    // Loaded first, so the model's load record does not share the requests' batches.
    const warm = await postJson(`${server.url}/api/generate`, {
      model: "alpha",
      prompt: "warm",
      stream: false,
    });
    await warm.arrayBuffer();
    const ended: string[] = [];
    server.server.events.on("request-end", (event) => ended.push(event.requestId));
    files.hold();
    const syncsBefore = files.syncs;
    const answers = Array.from({ length: 8 }, (_, index) =>
      postJson(`${server.url}/api/generate`, { model: "alpha", prompt: `p${index}`, stream: false }),
    );
    await waitFor(() => ended.length === 8, "all 8 generations to end");
    files.release();
    for (const answer of await Promise.all(answers)) {
      expect(answer.status).toBe(200);
      await answer.arrayBuffer();
    }
    expect(durableInference(files).length).toBe(9);
    // The held batch, plus one batch for everything that queued behind it.
    expect(files.syncs - syncsBefore).toBeLessThanOrEqual(2);
  });

  it("answers a refused request (unknown model) only after its failure record is durable", async () => {
    const files = testFiles();
    const server = await start({}, files);
    const response = await postJson(`${server.url}/api/generate`, {
      model: "nope",
      prompt: "x",
      stream: false,
    });
    expect(response.status).toBe(404);
    const id = response.headers.get("x-request-id");
    expect(durableInference(files).find((record) => record.requestId === id)).toMatchObject({
      outcome: "failure",
      details: { errorCode: "model-not-found" },
    });
    await response.arrayBuffer();
  });
});

describe("--audit-content", () => {
  it("records the prompt and the output after redaction", async () => {
    const files = testFiles();
    const server = await start({ "audit-content": "true" }, files, "mail me at bob@example.com today");
    const response = await postJson(
      `${server.url}/api/generate`,
      { model: "alpha", prompt: "my SSN is 123-45-6789", stream: false },
      { headers: { "x-request-id": "content-1" } },
    );
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const [record] = durableInference(files);
    expect(record!.details).toMatchObject({
      content: {
        prompt: { prompt: "my SSN is [ssn]" },
        output: expect.stringContaining("[email]") as string,
      },
    });
    expect(JSON.stringify(record)).not.toMatch(/123-45-6789|bob@example/);
  });
});

describe("when the audit log cannot be written", () => {
  it("not fail-closed: keeps serving, emits audit-health failed and shows it on /ready", async () => {
    const files = testFiles();
    const server = await start({}, files);
    const health: ServerEvents["audit-health"][] = [];
    server.server.events.on("audit-health", (event) => health.push(event));
    files.fail("ENOSPC");
    const response = await postJson(`${server.url}/v1/chat/completions`, chat("still served"));
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(health).toEqual([{ state: "failed", reason: expect.stringMatching(/ENOSPC/) as string }]);
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await bodyOf(ready)).toMatchObject({ status: "ready", audit: "failed" });
  });

  it("fail-closed: a record that fails ends its stream with an error, then inference is refused with 503", async () => {
    const files = testFiles();
    const server = await start({ "audit-fail-closed": "true" }, files, "a b c d e f g h i j k l");
    const streamed = rawPost(
      `${server.url}/v1/chat/completions`,
      chat("go", { stream: true, max_tokens: 12 }),
    );
    const response = await streamed.response;
    // Mid-generation the disk fills: the request's record cannot be written.
    files.fail("ENOSPC");
    const events = parseSse(await readAll(response)).data;
    expect(events.at(-1)).toMatch(/"code":"audit-unavailable"/);
    expect(events.join("\n")).not.toMatch(/\[DONE\]/);

    for (const [path, body] of [
      ["/v1/chat/completions", chat("refused")],
      ["/api/generate", { model: "alpha", prompt: "refused", stream: false }],
    ] as const) {
      const refused = await postJson(`${server.url}${path}`, body);
      expect(refused.status, path).toBe(503);
      const text = await refused.text();
      expect(text).toMatch(/audit log cannot be written/);
      expect(text).not.toMatch(/\/tmp|ENOSPC/);
    }
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await bodyOf(ready)).toMatchObject({ audit: "failed" });
  });

  it("the hipaa profile is fail-closed", async () => {
    const files = testFiles();
    const server = await start({ "audit-profile": "hipaa" }, files);
    files.fail("EACCES");
    const first = await postJson(`${server.url}/api/generate`, {
      model: "alpha",
      prompt: "x",
      stream: false,
    });
    expect(first.status).toBe(503);
    await first.arrayBuffer();
    const second = await postJson(`${server.url}/api/generate`, {
      model: "alpha",
      prompt: "x",
      stream: false,
    });
    expect(second.status).toBe(503);
    expect(await bodyOf(second)).toMatchObject({
      error: expect.stringMatching(/--audit-fail-closed/) as string,
    });
    expect(inferenceRecordsOnDisk(server.home)).toEqual([]);
  });
});

describe("a cancelled stream", () => {
  it("leaves a cancelled record and no ticket behind", async () => {
    const files = testFiles();
    const server = await start({}, files, "a b c d e f g h i j k l m n o p q r s t");
    const streamed = rawPost(`${server.url}/api/generate`, { model: "alpha", prompt: "go" });
    const response = await streamed.response;
    await new Promise((done) => response.once("data", done));
    streamed.destroy();
    const record = await waitFor(
      () => durableInference(files).find((entry) => entry.outcome === "cancelled"),
      "the cancelled record",
    );
    expect(record.details).toMatchObject({ finishReason: "cancelled" });
  });
});
