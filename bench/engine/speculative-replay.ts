/**
 * `node --import tsx bench/engine/speculative-replay.ts RESULT.json [--rounds 3]`
 *
 * Replays the greedy texts of a `npm run bench:speculative -- --server` result (its "off"
 * texts, the copy workload's prompt) through the runner's prompt-lookup predictor and `auto`
 * policy, offline (ADR 0049): each step's draft is checked against the text the model wrote, so
 * drafted and accepted counts are exact (up to tokenization) and free of machine noise. Time is
 * modeled on stories260K from bench/engine/speculative-batch-cost.ts: a decode of n tokens at KV
 * depth d costs 0.14 + n × (0.29 + 0.75 × (d − 64) / 256) ms, plus 0.13 ms per step outside the
 * decode and 0.02 ms per drafted position. The model's DraftMemory carries over between
 * requests, in the benchmark's order (copy, free, loop per round); the last round is printed.
 * `--counted`: pauses counted in tokens, no shadow checks (`auto` before ADR 0049).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { LlamaContextSequence } from "node-llama-cpp";
import { DraftPolicy, newDraftMemory } from "../../src/engine/runner/draft-policy.js";
import { maxDraftTokens } from "../../src/engine/runner/speculation.js";
import { LookupTokenPredictor } from "../../src/engine/runner/lookup-predictor.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { prepareModel } from "../lib/models.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { freeTextPrompt, loopPrompt } from "./copy-workload.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string", default: "3" }, counted: { type: "boolean", default: false } },
});
interface Result {
  copyWorkloads: { prompt: string }[];
  serverSamples: { workload: string; variant: string; round: number; text: string }[];
}
const result = JSON.parse(readFileSync(positionals[0]!, "utf8")) as Result;
const prompts: Record<string, string> = {
  copy: result.copyWorkloads[0]!.prompt,
  free: freeTextPrompt,
  loop: loopPrompt,
};
const texts: Record<string, string> = {};
for (const sample of result.serverSamples)
  if (sample.variant === "off" && sample.round === 0) texts[sample.workload] = sample.text;

const decodeMs = (tokens: number, depth: number): number =>
  0.14 + tokens * (0.29 + ((depth - 64) / 256) * 0.75);
const stepMs = 0.13;
const draftedPositionMs = 0.02;

const model = await prepareModel("stories");
const { llama, context } = await openDirectContext({
  modelPath: model.path,
  threads: 1,
  contextSize: 2048,
  sequences: 1,
});
const rows: string[][] = [];
try {
  const memory = newDraftMemory();
  const rounds = Number(values.rounds);
  for (let round = 0; round < rounds; round++)
    for (const workload of ["copy", "free", "loop"]) {
      const prompt = context.model.tokenize(prompts[workload]!);
      const written = context.model.tokenize(texts[workload]!);
      const counter = { validated: 0 };
      const sequence = { tokenPredictions: counter } as unknown as LlamaContextSequence;
      const policy = new DraftPolicy({
        maxDraft: maxDraftTokens,
        adaptive: true,
        validatedAtStart: 0,
        memory,
        shadow: !values.counted,
      });
      const predictor = new LookupTokenPredictor();
      predictor.begin(policy);
      predictor.reset({ stateTokens: prompt.slice(), targetSequence: sequence });
      let position = 0;
      let ms = 0;
      let offMs = 0;
      let drafted = 0;
      let accepted = 0;
      for (let index = 0; index < written.length; index++)
        offMs += decodeMs(1, prompt.length + index) + stepMs;
      while (position < written.length) {
        const draft = predictor.predictTokens();
        let taken = 0;
        while (taken < draft.length && draft[taken] === written[position + taken]) taken++;
        ms +=
          decodeMs(1 + draft.length, prompt.length + position) + stepMs + draft.length * draftedPositionMs;
        drafted += draft.length;
        accepted += taken;
        counter.validated += taken;
        for (let step = 0; step <= taken && position < written.length; step++)
          predictor.pushTokens([written[position++]!]);
      }
      policy.save();
      if (round === rounds - 1)
        rows.push([
          workload,
          String(written.length),
          String(drafted),
          String(accepted),
          formatNumber(offMs / ms, 2),
        ]);
    }
} finally {
  await llama.dispose();
}
console.log(formatTable(["workload", "tokens", "drafted", "accepted", "modeled × off"], rows));
