/**
 * Credit-based flow control and cancellation between the main process and a real runner:
 * a consumer that stops pulling pauses the runner after a bounded window of tokens, and an
 * abort stops generation within a token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemTime, type GenerateEvent, type GenerateRequest } from "../../src/core/index.js";
import { LlamaCppEngine, type RunnerProcess } from "../../src/engine/index.js";
import { storiesPath } from "./helpers.js";

const window = 64; // initialCredits in src/engine/protocol.ts

function request(id: string, maxTokens: number): GenerateRequest {
  return {
    id,
    model: "stories260K",
    input: { kind: "text", prompt: "Once upon a time" },
    maxTokens,
    stop: [],
    sampling: { temperature: 0.9, seed: 7 },
    reportProgress: false,
    priority: "normal",
  };
}

describe("flow control with a real runner", () => {
  let runner: RunnerProcess;

  beforeAll(async () => {
    const engine = new LlamaCppEngine({ logger: silentLogger });
    runner = (await engine.load({
      name: "stories260K",
      path: storiesPath,
      contextTokens: 512,
      parallel: 2,
      threads: 1,
      gpu: "cpu",
      loadTimeoutMs: 60_000,
    })) as RunnerProcess;
  });
  afterAll(async () => runner.dispose());

  it("a consumer that stops reading pauses the runner after the credit window", async () => {
    const stream = runner.generate(request("slow", 400), new AbortController().signal);
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await systemTime.sleep(500);
    // stories260K decodes >1000 tokens/s: without flow control all 400 would be here by now.
    expect(runner.bufferedEvents).toBeGreaterThan(0);
    expect(runner.bufferedEvents).toBeLessThanOrEqual(window);
    let tokens = 1;
    let end: GenerateEvent | undefined;
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      if (next.value.type === "text-delta") tokens += next.value.tokenCount;
      else end = next.value;
    }
    expect(end?.type === "end" && end.usage.completionTokens).toBe(400);
    expect(tokens).toBeGreaterThanOrEqual(399);
  });

  it("an abort stops generation within a token and frees the sequence", async () => {
    const controller = new AbortController();
    // Tokens received when the abort came (a delta may carry several: ADR 0039).
    let tokens = 0;
    let tokensAtAbort: number | undefined;
    let end: GenerateEvent | undefined;
    for await (const event of runner.generate(request("cancel", 400), controller.signal)) {
      if (event.type === "text-delta") {
        tokens += event.tokenCount;
        if (tokens >= 5 && tokensAtAbort === undefined) {
          tokensAtAbort = tokens;
          controller.abort();
        }
      } else if (event.type === "end") {
        end = event;
      }
    }
    expect(end?.type === "end" && end.reason).toBe("cancelled");
    expect(end?.type === "end" && end.usage.completionTokens).toBeLessThanOrEqual(tokensAtAbort! + window);
    // Both sequences are free again: two concurrent generations complete.
    const results = await Promise.all(
      ["a", "b"].map(async (id) => {
        let count = 0;
        for await (const event of runner.generate(request(id, 10), new AbortController().signal))
          if (event.type === "end") count = event.usage.completionTokens;
        return count;
      }),
    );
    expect(results).toEqual([10, 10]);
  });

  it("streams prompt-processing progress before the first token when asked", async () => {
    const events: GenerateEvent[] = [];
    const longPrompt = {
      ...request("progress", 4),
      reportProgress: true,
      input: { kind: "text" as const, prompt: "the cat sat on the mat and ".repeat(40) },
    };
    for await (const event of runner.generate(longPrompt, new AbortController().signal)) events.push(event);
    const progress = events.filter((event) => event.type === "progress");
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const firstText = events.findIndex((event) => event.type === "text-delta");
    expect(events.findIndex((event) => event.type === "progress")).toBeLessThan(firstText);
    const processed = progress.map((event) => (event.type === "progress" ? event.processedTokens : -1));
    expect(processed).toEqual([...processed].sort((a, b) => a - b));
    // The final chunk (at most 128 tokens, the last one included) is evaluated with the first sampled token.
    const last = progress.at(-1)!;
    if (last.type !== "progress") throw new Error("not a progress event");
    expect(last.processedTokens).toBeGreaterThanOrEqual(last.totalTokens - 128);
    expect(last.processedTokens).toBeLessThan(last.totalTokens);
  });
});
