/**
 * A model file that changes or is deleted while its runner is loaded (#15 §1), on the real
 * engine. Changed: the next request finds the new identity (device, inode, size, mtime), the
 * catalog re-validates the file, and the old runner is stopped so a new one loads it; a file
 * that became invalid is refused (422) without a load. Deleted: the request in flight finishes
 * (the runner keeps the file open), the listing drops the model, the next request is a 404.
 */
import { copyFileSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectHealthy,
  expectRefused,
  startHostileModelServer,
  storiesPath,
  type HostileModelServer,
} from "./model-files.testing.js";

async function complete(test: HostileModelServer, model: string): Promise<Response> {
  return fetch(`${test.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, prompt: "Once upon a time", max_tokens: 4, temperature: 0 }),
  });
}

async function runnerPid(test: HostileModelServer, model: string): Promise<number | undefined> {
  const response = await fetch(`${test.url}/api/ps`);
  const { models } = (await response.json()) as { models: { name: string; pid: number | null }[] };
  return models.find((entry) => entry.name === model)?.pid ?? undefined;
}

async function listedNames(test: HostileModelServer): Promise<string[]> {
  const response = await fetch(`${test.url}/api/tags`);
  return ((await response.json()) as { models: { name: string }[] }).models.map((model) => model.name);
}

describe("a model file changed or deleted while loaded", () => {
  let test: HostileModelServer;

  beforeAll(async () => {
    test = await startHostileModelServer();
  });
  afterAll(async () => test?.dispose());

  it("a replaced file restarts the runner on the new file; an invalid replacement is refused", async () => {
    const path = join(test.modelsDir, "shifty.gguf");
    copyFileSync(storiesPath, path);
    expect((await complete(test, "shifty")).status).toBe(200);
    const firstPid = await runnerPid(test, "shifty");
    expect(firstPid).toBeGreaterThan(0);
    expect((await complete(test, "shifty")).status).toBe(200);
    expect(await runnerPid(test, "shifty"), "an unchanged file keeps its runner").toBe(firstPid);

    // Replaced atomically, as a download or `cp` to a temporary name then `mv` does.
    copyFileSync(storiesPath, `${path}.new`);
    renameSync(`${path}.new`, path);
    expect((await complete(test, "shifty")).status).toBe(200);
    const secondPid = await runnerPid(test, "shifty");
    expect(secondPid).toBeGreaterThan(0);
    expect(secondPid, "the runner was restarted on the new file").not.toBe(firstPid);

    // Rewritten in place with a broken file: refused before any runner uses it.
    const loadsBefore = test.loadsStarted.length;
    const bytes = readFileSync(storiesPath);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectRefused(test, "shifty", {
      status: 422,
      code: "model-invalid",
      message: /Model file shifty\.gguf is not a valid GGUF: .*(truncated|past the end)/,
    });
    expect(test.loadsStarted.length).toBe(loadsBefore);

    // Fixed again: served by a fresh runner.
    writeFileSync(path, bytes);
    expect((await complete(test, "shifty")).status).toBe(200);
    expect(await runnerPid(test, "shifty")).not.toBe(secondPid);
  });

  it("a deleted file: the stream in flight finishes, the listing drops it, the next request is a 404", async () => {
    const path = join(test.modelsDir, "doomed.gguf");
    copyFileSync(storiesPath, path);
    const response = await fetch(`${test.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "doomed", prompt: "Once upon a time", max_tokens: 120, stream: true }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value as Uint8Array);
    // The client has read one chunk; the runner waits on it (credit-based flow control).
    unlinkSync(path);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value as Uint8Array);
    }
    expect(text).not.toContain('"error"');
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);

    expect(await listedNames(test)).not.toContain("doomed");
    await expectRefused(test, "doomed", {
      status: 404,
      code: "model-not-found",
      message: /Model "doomed" not found/,
    });
    await expectHealthy(test);
  });
});
