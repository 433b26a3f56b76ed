/**
 * text-delta events carry the ids of the tokens they stand for (the cluster resumes a stream on
 * another node from them): concatenated over a greedy stream they are the generation's tokens —
 * what a preemption's ResumeState.generatedTokens holds — and detokenized they are its text.
 * Deltas that waited for one runner message arrive joined, with per-token pieces (ADR 0039).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  forEachTextPiece,
  silentLogger,
  type GenerateEvent,
  type GenerateRequest,
  type ResumeState,
} from "../../src/core/index.js";
import { LlamaCppEngine, type ModelRunner } from "../../src/engine/index.js";
import { storiesPath } from "./helpers.js";

const prompt = "Once upon a time, there was a little girl named Lily.";

function request(
  id: string,
  options: { maxTokens: number; resume?: ResumeState; stop?: string[] },
): GenerateRequest {
  return {
    id,
    model: "stories260K",
    input: { kind: "text", prompt },
    maxTokens: options.maxTokens,
    stop: options.stop ?? [],
    sampling: { temperature: 0 },
    reportProgress: false,
    priority: "normal",
    resume: options.resume,
  };
}

interface Streamed {
  text: string;
  tokenIds: number[];
  deltas: Extract<GenerateEvent, { type: "text-delta" }>[];
  last: GenerateEvent;
}

/** One generation's text, token ids and last event; preempts it after `preemptAfterDeltas` deltas (each may join several tokens). */
async function stream(
  runner: ModelRunner,
  generate: GenerateRequest,
  preemptAfterDeltas?: number,
): Promise<Streamed> {
  const streamed: Omit<Streamed, "last"> = { text: "", tokenIds: [], deltas: [] };
  let last: GenerateEvent | undefined;
  for await (const event of runner.generate(generate, new AbortController().signal)) {
    if (event.type === "text-delta") {
      streamed.deltas.push(event);
      streamed.text += event.text;
      streamed.tokenIds.push(...(event.tokenIds ?? []));
      if (streamed.deltas.length === preemptAfterDeltas) runner.preempt(generate.id);
    }
    last = event;
  }
  return { ...streamed, last: last! };
}

async function detokenize(runner: ModelRunner, tokens: number[]): Promise<string> {
  const result = await runner.tokenizer({ kind: "detokenize", tokens }, new AbortController().signal);
  if (result.kind !== "detokenize") throw new Error(`unexpected tokenizer answer ${result.kind}`);
  return result.content;
}

async function tokenize(runner: ModelRunner, text: string): Promise<number[]> {
  const result = await runner.tokenizer(
    { kind: "tokenize", text, addSpecial: false, parseSpecial: false, withPieces: false },
    new AbortController().signal,
  );
  if (result.kind !== "tokenize") throw new Error(`unexpected tokenizer answer ${result.kind}`);
  return result.tokens;
}

describe("text-delta token ids (real engine, stories260K)", () => {
  let runner: ModelRunner;
  beforeAll(async () => {
    runner = await new LlamaCppEngine({ logger: silentLogger }).load({
      name: "stories260K",
      path: storiesPath,
      contextTokens: 512,
      parallel: 1,
      threads: 1,
      gpu: "cpu",
      tuning: {
        requestedGpu: "cpu",
        gpuLayers: "auto",
        gpuMarginBytes: -1,
        cacheDirectory: undefined,
        engineBuild: "prebuilt",
      },
      loadTimeoutMs: 60_000,
    });
  });
  afterAll(async () => runner.dispose());

  it("are every generated token, one delta's worth each, and detokenize to the streamed text", async () => {
    const whole = await stream(runner, request("whole", { maxTokens: 80 }));
    expect(whole.last.type).toBe("end");
    if (whole.last.type !== "end") return;
    expect(whole.tokenIds.length).toBe(whole.last.usage.completionTokens);
    for (const delta of whole.deltas) expect(delta.tokenIds?.length).toBe(delta.tokenCount);
    // Detokenized after the prompt's tokens (the first output token's leading space needs them).
    const promptTokens = await tokenize(runner, prompt);
    const promptText = await detokenize(runner, promptTokens);
    expect(await detokenize(runner, [...promptTokens, ...whole.tokenIds])).toBe(promptText + whole.text);
  });

  it("of a preempted stream are its ResumeState.generatedTokens, and the resume continues them", async () => {
    const whole = await stream(runner, request("whole", { maxTokens: 200 }));
    const first = await stream(runner, request("resumed", { maxTokens: 200 }), 1);
    expect(first.last.type).toBe("preempted");
    if (first.last.type !== "preempted") return;
    expect(first.last.resume.generatedTokens).toEqual(first.tokenIds);
    expect(first.tokenIds.length).toBeGreaterThan(0);
    const rest = await stream(runner, request("resumed", { maxTokens: 200, resume: first.last.resume }));
    expect(rest.last.type).toBe("end");
    expect([...first.tokenIds, ...rest.tokenIds]).toEqual(whole.tokenIds);
    expect(first.text + rest.text).toBe(whole.text);
  });

  it("tokens that wait for one runner message come as one delta, its pieces one per runner delta", async () => {
    const whole = await stream(runner, request("joined", { maxTokens: 200 }));
    expect(whole.last.type === "end" && whole.last.usage.completionTokens).toBe(200);
    // stories260K decodes hundreds of tokens per second: the 50 ms window joins several.
    expect(whole.deltas.length).toBeLessThan(100);
    for (const delta of whole.deltas) {
      expect(delta.tokenIds?.length).toBe(delta.tokenCount);
      const pieces: string[] = [];
      forEachTextPiece(delta, (piece) => pieces.push(piece));
      expect(pieces.join("")).toBe(delta.text);
      const lengths = delta.pieceLengths ?? [delta.text.length];
      expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(delta.text.length);
    }
    expect(whole.deltas.some((delta) => (delta.pieceLengths?.length ?? 1) > 1)).toBe(true);
  });

  it("cover the tokens whose text a stop string held (the held text's delta carries none)", async () => {
    const whole = await stream(runner, request("whole", { maxTokens: 40 }));
    // A stop string that never matches but holds text: the start of the stream's last word, doubled.
    const word = whole.text.trim().split(/\s+/).at(-1)!;
    const held = await stream(runner, request("held", { maxTokens: 40, stop: [`${word}${word}`] }));
    expect(held.text).toBe(whole.text);
    expect(held.tokenIds).toEqual(whole.tokenIds);
  });
});
