/**
 * The child of `npm run bench:helper-threads`: node-llama-cpp used directly (no server), one
 * sequence, greedy decoding of `--tokens` tokens after a short prompt, at `--threads` on the
 * prebuilt binary or the local OpenMP build. It prints one JSON line: the decode rate and the
 * decode window in CLOCK_MONOTONIC nanoseconds (the clock `perf record -k CLOCK_MONOTONIC`
 * stamps its events with), so the parent counts only the threads made while it decoded.
 */
import { parseArgs } from "node:util";
import { openDirectContext } from "../lib/direct-engine.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    threads: { type: "string", default: "2" },
    tokens: { type: "string", default: "256" },
    build: { type: "string", default: "prebuilt" },
  },
});
if (values.model === undefined) throw new Error("--model PATH is required.");
const build = values.build === "openmp" ? "openmp" : "prebuilt";
const maxTokens = Number(values.tokens);
const { llama, context } = await openDirectContext({
  modelPath: values.model,
  threads: Number(values.threads),
  contextSize: 2048,
  sequences: 1,
  build,
  // RawrXD's choice for these models (ADR 0057): off for stories260K's 8-wide heads.
  flashAttention: values.model.includes("stories") ? false : "auto",
});
try {
  const sequence = context.getSequence();
  const model = context.model;
  const prompt = "the old farmer walked slowly down the dusty road toward the quiet village";
  const input = [...(model.tokens.bos === null ? [] : [model.tokens.bos]), ...model.tokenize(prompt)];
  let tokens = 0;
  let firstAt = 0n;
  for await (const token of sequence.evaluate(input, { temperature: 0 })) {
    void token;
    if (tokens === 0) firstAt = process.hrtime.bigint();
    tokens += 1;
    if (tokens >= maxTokens) break;
  }
  const endAt = process.hrtime.bigint();
  const seconds = Number(endAt - firstAt) / 1e9;
  process.stdout.write(
    JSON.stringify({
      pid: process.pid,
      tokens,
      decodeTokensPerSecond: (tokens - 1) / seconds,
      windowNs: [firstAt.toString(), endAt.toString()],
    }) + "\n",
  );
} finally {
  await llama.dispose();
}
