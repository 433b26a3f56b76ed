/**
 * Saved KV state on the real engine (docs/decisions/0022): a preempted generation resumes from
 * its saved sequence state (0 tokens evaluated again, greedy text unchanged), and with
 * --prompt-cache a long prompt's state survives a server restart (cached tokens on the first
 * request after it, same greedy text); a corrupt or foreign cache file is deleted, not loaded.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerEvents } from "../../src/core/index.js";
import { postJson, sseData, startModelServer, type ModelTestServer } from "./helpers.js";

type RequestEnd = ServerEvents["request-end"];

const lowPrompt = "Once upon a time, there was a little girl named Lily.";
const lowBody = { model: "stories260K", prompt: lowPrompt, max_tokens: 300, temperature: 0 };

function textOf(sse: string): string {
  return sseData(sse)
    .filter((payload) => payload !== "[DONE]")
    .map((payload) => (JSON.parse(payload) as { choices: { text?: string }[] }).choices[0]?.text ?? "")
    .join("");
}

describe("preemption resumes from the saved KV state", () => {
  let test: ModelTestServer;
  const ends: RequestEnd[] = [];

  beforeAll(async () => {
    test = await startModelServer({ parallel: "1" });
    test.server.events.on("request-end", (event) => ends.push(event));
  });
  afterAll(async () => test.dispose());

  it("re-evaluates 0 tokens on resume and continues with the uninterrupted greedy text", async () => {
    const uninterrupted = (await (await postJson(`${test.url}/v1/completions`, lowBody)).json()) as {
      choices: { text: string }[];
    };
    const expected = uninterrupted.choices[0]!.text;

    const low = await fetch(`${test.url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Priority": "low", "X-Request-Id": "kv-low" },
      body: JSON.stringify({ ...lowBody, stream: true }),
    });
    const reader = low.body!.getReader();
    const decoder = new TextDecoder();
    let lowText = decoder.decode((await reader.read()).value as Uint8Array);
    const high = await fetch(`${test.url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Priority": "high" },
      body: JSON.stringify({
        model: "stories260K",
        prompt: "The dog ran to the park and",
        max_tokens: 24,
        temperature: 0,
      }),
    });
    expect(high.status).toBe(200);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      lowText += decoder.decode(value as Uint8Array);
    }
    expect(textOf(lowText)).toBe(expected);
    const end = ends.find((event) => event.requestId === "kv-low");
    expect(end?.preemptions ?? 0).toBeGreaterThanOrEqual(1);
    expect(end?.reevaluatedTokens).toBe(0);
    // The resume found its state: the prompt and all earlier output came from it.
    expect(end?.cachedTokens ?? 0).toBeGreaterThan(end!.promptTokens);
  });
});

const story =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball under a tree. " +
  "She ran to the ball and picked it up. Her mom smiled and said they could play together before lunch. " +
  "Lily and her mom played with the ball all morning. They laughed and ran and had lots of fun in the sun. " +
  "When it was time for lunch, they went home and ate sandwiches. Lily was happy and said thank you to her mom.";

describe("--prompt-cache keeps a long prompt's state across a restart", () => {
  let cacheDir: string;
  let test: ModelTestServer | undefined;
  const ends: RequestEnd[] = [];

  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), "rawrxd-prompt-cache-"));
  });
  afterAll(async () => {
    await test?.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  async function restart(): Promise<void> {
    await test?.dispose();
    test = await startModelServer({ parallel: "1", "prompt-cache": cacheDir });
    test.server.events.on("request-end", (event) => ends.push(event));
  }

  async function complete(id: string, prompt = story): Promise<{ text: string; cachedTokens: number }> {
    const response = await fetch(`${test!.url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-Id": id },
      body: JSON.stringify({ model: "stories260K", prompt, max_tokens: 24, temperature: 0 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: { text: string }[] };
    return {
      text: body.choices[0]!.text,
      cachedTokens: ends.find((event) => event.requestId === id)!.cachedTokens ?? 0,
    };
  }

  function stateFiles(): string[] {
    const [folder] = readdirSync(cacheDir).filter((name) => name !== "model-digests");
    return readdirSync(join(cacheDir, folder!))
      .filter((name) => name.endsWith(".state"))
      .map((name) => join(cacheDir, folder!, name));
  }

  it("the first request after a restart reuses the saved prefix with identical greedy output", async () => {
    await restart();
    const cold = await complete("cold");
    expect(cold.cachedTokens).toBe(0);

    // The runner saves after the response; closing the server lets the save finish.
    await restart();
    expect(stateFiles()).toHaveLength(1);
    const warm = await complete("warm");
    expect(warm.cachedTokens).toBeGreaterThanOrEqual(64);
    expect(warm.text).toBe(cold.text);

    // Another ending after the same long start: the saved prefix serves it too (then is trimmed).
    await restart();
    const otherEnding = await complete("other-ending", `${story} The next day, Lily`);
    expect(otherEnding.cachedTokens).toBeGreaterThanOrEqual(64);
    expect(stateFiles()).toHaveLength(1);
  });

  it("deletes a corrupt state file instead of loading it, and serves the same text", async () => {
    const [state] = stateFiles();
    const bytes = readFileSync(state!);
    bytes.fill(0x5a, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 64);
    writeFileSync(state!, bytes);
    // A foreign entry (not ours, not valid) is deleted when the folder is opened.
    writeFileSync(join(state!, "..", `${"0".repeat(64)}.json`), "{not json");
    writeFileSync(join(state!, "..", `${"0".repeat(64)}.state`), "junk");
    await restart();
    // The runner opens the cache when it loads the model, at the first request.
    const afterCorruption = await complete("corrupt");
    expect(readdirSync(join(state!, "..")).some((name) => name.startsWith("0000"))).toBe(false);
    expect(afterCorruption.cachedTokens).toBe(0);
    expect(afterCorruption.text.length).toBeGreaterThan(0);
    // The corrupt entry was replaced by a fresh save of the same prompt.
    await restart();
    const again = await complete("again");
    expect(again.cachedTokens).toBeGreaterThanOrEqual(64);
    expect(again.text).toBe(afterCorruption.text);
  });
});
