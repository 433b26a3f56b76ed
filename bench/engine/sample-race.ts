/**
 * `npm run bench:sample-race -- [--rounds 40] [--tokens 64]`
 *
 * How often four concurrent greedy streams on one context get another stream's token (ADR
 * 0034): stories260K, four sequences, each round's four texts against each prompt's text
 * alone. Six variants interleaved in each round: node-llama-cpp's own dispatch or the decode
 * gatherer (ADR 0030) queuing each batch in arrival order or in sequence-id order (ADR 0044),
 * each without and with the sample gate (src/engine/runner/sample-gate.ts).
 * Prints a table, writes bench/results/sample-race-*.json.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  getLlama,
  LlamaLogLevel,
  type LlamaContext,
  type LlamaContextSequence,
  type Token,
} from "node-llama-cpp";
import { systemTime } from "../../src/core/index.js";
import { DecodeGather } from "../../src/engine/runner/decode-gather.js";
import { installSampleGate } from "../../src/engine/runner/sample-gate.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { formatTable } from "../lib/table.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "40" },
    tokens: { type: "string", default: "64" },
  },
});
const rounds = Number(values.rounds);
const tokens = Number(values.tokens);
const prompts = [
  "Once upon a time there was a little girl named Lily.",
  "The dog ran to the park with a big red ball.",
  "Tom had a toy car. He liked to play with it every day.",
  "One day, a bird sat on a tree and sang a happy song.",
];

interface Variant {
  dispatch: "node-llama-cpp" | "gather-arrival" | "gather";
  gate: boolean;
  context: LlamaContext;
  sequences: LlamaContextSequence[];
  gather: DecodeGather | undefined;
  alone: string[];
  roundsWrong: number;
  streamsWrong: number;
  ms: number;
}

async function generate(variant: Variant, indexes: number[]): Promise<string[]> {
  const sequences = indexes.map((index) => variant.sequences[index]!);
  for (const sequence of sequences) await sequence.clearHistory();
  return Promise.all(
    sequences.map(async (sequence, position) => {
      const out: Token[] = [];
      variant.gather?.join();
      try {
        const prompt = variant.context.model.tokenize(prompts[indexes[position]!]!);
        for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
          out.push(token);
          if (out.length >= tokens) break;
        }
      } finally {
        variant.gather?.leave();
      }
      return variant.context.model.detokenize(out);
    }),
  );
}

const machine = await describeMachine();
const startedAt = new Date(systemTime.wallNow()).toISOString();
const stories = await prepareModel("stories");
const llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: LlamaLogLevel.error });
try {
  const model = await llama.loadModel({ modelPath: stories.path });
  const variants: Variant[] = [];
  for (const dispatch of ["node-llama-cpp", "gather-arrival", "gather"] as const)
    for (const gate of [false, true]) {
      const context = await model.createContext({ contextSize: 1024, sequences: 4, threads: 1 });
      if (gate) installSampleGate(context);
      // "gather-arrival": the gatherer queuing batches in arrival order (before ADR 0044).
      const gather =
        dispatch === "node-llama-cpp"
          ? undefined
          : new DecodeGather(context, { order: dispatch === "gather" ? "sequence" : "arrival" });
      const sequences = prompts.map(() => context.getSequence());
      const variant: Variant = {
        dispatch,
        gate,
        context,
        sequences,
        gather,
        alone: [],
        roundsWrong: 0,
        streamsWrong: 0,
        ms: 0,
      };
      for (const index of prompts.keys()) variant.alone.push(...(await generate(variant, [index])));
      variants.push(variant);
    }
  for (let round = 0; round < rounds; round += 1)
    for (const variant of variants) {
      const start = systemTime.monotonicNow();
      const together = await generate(variant, [0, 1, 2, 3]);
      variant.ms += systemTime.monotonicNow() - start;
      const wrong = together.filter((text, index) => text !== variant.alone[index]).length;
      variant.streamsWrong += wrong;
      if (wrong > 0) variant.roundsWrong += 1;
    }
  const rows = variants.map((variant) => ({
    dispatch: variant.dispatch,
    sampleGate: variant.gate,
    rounds,
    roundsWithAnExchangedToken: variant.roundsWrong,
    streamsWrong: variant.streamsWrong,
    msPerRound: variant.ms / rounds,
  }));
  console.log(
    formatTable(
      ["dispatch", "sample gate", "rounds", "rounds wrong", "streams wrong", "ms/round"],
      rows.map((row) => [
        row.dispatch,
        row.sampleGate ? "on" : "off",
        String(row.rounds),
        String(row.roundsWithAnExchangedToken),
        String(row.streamsWrong),
        row.msPerRound.toFixed(1),
      ]),
    ),
  );
  const path = await writeResultFiles(
    join(benchDirectory, "results"),
    { prefix: "sample-race", latest: "sample-race-latest.json", startedAt },
    { startedAt, machine, model: "stories260K", tokens, rows },
  );
  console.error(`wrote ${path}`);
} finally {
  await llama.dispose();
}
