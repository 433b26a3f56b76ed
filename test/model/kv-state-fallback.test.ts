/**
 * A runner with and without room for preempted states: with it, the resume after another
 * request took the only sequence re-evaluates 0 tokens; without it (budget 0), it falls back to
 * evaluating the prompt and the earlier output again, counts them in usage.reevaluatedTokens,
 * and the greedy text is the same either way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  silentLogger,
  type GenerateEvent,
  type GenerateRequest,
  type ResumeState,
} from "../../src/core/index.js";
import { LlamaCppEngine, type ModelRunner, type RunnerTuning } from "../../src/engine/index.js";
import { storiesPath } from "./helpers.js";

function request(
  id: string,
  prompt: string,
  options: { maxTokens: number; resume?: ResumeState },
): GenerateRequest {
  const { maxTokens, resume } = options;
  return {
    id,
    model: "stories260K",
    input: { kind: "text", prompt },
    maxTokens,
    stop: [],
    sampling: { temperature: 0 },
    reportProgress: false,
    priority: "normal",
    resume,
  };
}

async function load(preemptedStateMaxBytes: number | undefined): Promise<ModelRunner> {
  const tuning: RunnerTuning = {
    requestedGpu: "cpu",
    gpuLayers: "auto",
    gpuMarginBytes: -1,
    cacheDirectory: undefined,
    engineBuild: "prebuilt",
    preemptedStateMaxBytes,
  };
  return new LlamaCppEngine({ logger: silentLogger }).load({
    name: "stories260K",
    path: storiesPath,
    contextTokens: 512,
    parallel: 1,
    threads: 1,
    gpu: "cpu",
    tuning,
    loadTimeoutMs: 60_000,
  });
}

/** Text and the last event of one generation; preempts it after its first text when asked. */
async function run(
  runner: ModelRunner,
  generate: GenerateRequest,
  preemptAfterFirstText = false,
): Promise<{ text: string; last: GenerateEvent }> {
  let text = "";
  let last: GenerateEvent | undefined;
  for await (const event of runner.generate(generate, new AbortController().signal)) {
    if (event.type === "text-delta") {
      if (text === "" && preemptAfterFirstText) runner.preempt(generate.id);
      text += event.text;
    }
    last = event;
  }
  return { text, last: last! };
}

const prompt = "Once upon a time, there was a little girl named Lily.";

describe.each([
  { label: "saved state", budget: undefined, reevaluated: (tokens: number) => tokens === 0 },
  { label: "no room: re-evaluation", budget: 0, reevaluated: (tokens: number) => tokens > 0 },
])("resume after preemption ($label)", ({ budget, reevaluated }) => {
  let runner: ModelRunner;
  beforeAll(async () => {
    runner = await load(budget);
  });
  afterAll(async () => runner.dispose());

  it("continues with the uninterrupted greedy text and counts re-evaluated tokens", async () => {
    const whole = await run(runner, request("whole", prompt, { maxTokens: 200 }));
    const first = await run(runner, request("low", prompt, { maxTokens: 200 }), true);
    expect(first.last.type).toBe("preempted");
    if (first.last.type !== "preempted") return;
    expect(first.last.resume.generatedTokens.length).toBeGreaterThan(0);
    // Another request takes the only sequence before the resume.
    await run(runner, request("high", "The dog ran to the park", { maxTokens: 16 }));
    const rest = await run(runner, request("low", prompt, { maxTokens: 200, resume: first.last.resume }));
    expect(rest.last.type).toBe("end");
    if (rest.last.type !== "end") return;
    expect(first.text + rest.text).toBe(whole.text);
    expect(rest.last.usage.reevaluatedTokens).toBeDefined();
    expect(reevaluated(rest.last.usage.reevaluatedTokens!)).toBe(true);
  });
});
