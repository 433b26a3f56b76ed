/**
 * Issue #15 §2: kill -9 of one runner while several streams run on two models (real engine,
 * stories260K under two names). The killed model's streams end with an error event (not a hang,
 * not a reset), the other model's streams continue to [DONE], the model reloads for the next
 * request, and the audit has a failed `inference` record for each request that died.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sseData, startModelServer, storiesPath, type ModelTestServer } from "../model/helpers.js";

interface OpenStream {
  model: string;
  requestId: string;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  text: string;
}

async function openStream(url: string, model: string, maxTokens: number): Promise<OpenStream> {
  const response = await postJson(`${url}/v1/chat/completions`, {
    model,
    messages: [{ role: "user", content: "Tell me a long story" }],
    max_tokens: maxTokens,
    temperature: 0.8,
    // Reproducible: the same story (no early end of text) on every run.
    seed: 42,
    stream: true,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const first = await reader.read();
  const text = new TextDecoder().decode(first.value as Uint8Array);
  return { model, requestId: response.headers.get("x-request-id")!, reader, text };
}

/** Reads to the end; a reset or a hang fails the test here (by rejection or the test timeout). */
async function readToEnd(stream: OpenStream): Promise<string[]> {
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await stream.reader.read();
    if (done) break;
    stream.text += decoder.decode(value, { stream: true });
  }
  return sseData(stream.text);
}

function runnerPid(test: ModelTestServer, model: string): number | undefined {
  return test.server.queue.snapshot().loaded.find((view) => view.name === model)?.info.pid;
}

describe("kill -9 of a runner with streams on two models", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    test = await startModelServer({ parallel: "2", "max-loaded-models": "2", "context-size": "8192" });
    copyFileSync(storiesPath, join(test.modelsDir, "second.gguf"));
  });
  afterAll(async () => test.dispose());

  it("fails the killed model's streams cleanly, the other model's finish, the model reloads, the audit has the failures", async () => {
    for (const model of ["stories260K", "second"]) {
      // Ollama: an empty prompt loads the model.
      const response = await postJson(`${test.url}/api/generate`, { model, prompt: "", keep_alive: "10m" });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    // The other model's streams first; the killed model's two opened together, killed at once.
    const streams = await Promise.all([
      openStream(test.url, "second", 1200),
      openStream(test.url, "second", 1200),
    ]);
    streams.push(
      ...(await Promise.all([
        openStream(test.url, "stories260K", 3500),
        openStream(test.url, "stories260K", 3500),
      ])),
    );
    const killedPid = runnerPid(test, "stories260K");
    expect(killedPid).toBeGreaterThan(0);
    expect(runnerPid(test, "second")).not.toBe(killedPid);
    process.kill(killedPid!, "SIGKILL");

    const ends = await Promise.all(streams.map(readToEnd));
    for (const [index, stream] of streams.entries()) {
      const data = ends[index]!;
      if (stream.model === "stories260K") {
        const last = JSON.parse(data.at(-1)!) as { error?: { code: string; message: string } };
        expect(last.error?.code).toBe("runner-crashed");
        expect(last.error?.message).toMatch(/stories260K/);
      } else {
        expect(data.at(-1)).toBe("[DONE]");
        const chunks = data.slice(0, -1).map((payload) => JSON.parse(payload) as { error?: unknown });
        expect(chunks.filter((chunk) => chunk.error !== undefined)).toEqual([]);
      }
    }

    expect((await fetch(`${test.url}/health`)).status).toBe(200);
    const again = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt: "Once",
      max_tokens: 5,
      temperature: 0,
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { choices: unknown[] }).choices).toHaveLength(1);
    expect(runnerPid(test, "stories260K")).not.toBe(killedPid);

    const audit = (await (await fetch(`${test.url}/v1/audit?type=inference&limit=1000`)).json()) as {
      records: { requestId: string; outcome: string; details: Record<string, unknown> }[];
    };
    for (const stream of streams) {
      const record = audit.records.find((candidate) => candidate.requestId === stream.requestId);
      expect(record, `the inference record of ${stream.model} ${stream.requestId}`).toBeDefined();
      expect(record!.outcome).toBe(stream.model === "stories260K" ? "failure" : "success");
    }
  });
});
