/**
 * `npm run bench:fim -- [--model tiny|134m] [--reps 20] [--file-tokens 2000] [--fim-order psm|spm]`
 *
 * Fill-in-the-middle latency after a one-character edit: a ~2,000-token file, the cursor three
 * quarters in, one character typed before the cursor per rep, then a streamed POST /infill
 * (an editor's keystroke). The prompt before the edit is still in the sequence, so only the
 * tokens from the edit on are evaluated. Reports p50/p95 of the time to first token (client:
 * the first SSE frame; server: prompt_ms) against one token's decode
 * time (predicted_per_token_ms of a 32-token request). Target: p95 ≤ 2× a token's decode time.
 * The model is synthetic, with FIM tokens in its metadata (stories260K has none).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { syntheticModelShapes, writeFimModel } from "../../src/gguf/index.js";
import { startBenchServer } from "../lib/bench-server.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory } from "../lib/models.js";
import { promptWords } from "../lib/prompt-words.js";
import { writeResultFiles } from "../lib/results.js";
import { median, percentile } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "tiny" },
    reps: { type: "string", default: "20" },
    "file-tokens": { type: "string", default: "2000" },
    "fim-order": { type: "string", default: "psm" },
  },
  strict: true,
});
const reps = Number(values.reps);
const fileTokens = Number(values["file-tokens"]);
const preset = values.model === "134m" ? "llama-134m" : "tiny";
const shape = { ...syntheticModelShapes[preset], contextLength: 4096, name: `synthetic-fim-${preset}` };

interface InfillAnswer {
  content: string;
  tokens_evaluated: number;
  tokens_cached: number;
  timings: { prompt_ms: number; predicted_per_token_ms: number; predicted_n: number };
}

/** Code-like lines of plain words; roughly one token per word and symbol on a small vocabulary. */
function sourceFile(approximateTokens: number): string {
  const lines: string[] = [];
  let tokens = 0;
  for (let line = 0; tokens < approximateTokens; line++) {
    const words = Array.from(
      { length: 6 },
      (_, index) => promptWords[(line * 7 + index * 3) % promptWords.length],
    );
    lines.push(`    let ${words[0]}_${line} = ${words.slice(1).join(" + ")};`);
    tokens += 14;
  }
  return lines.join("\n");
}

const startedAt = new Date(systemTime.wallNow());
const machine = await describeMachine();
const home = mkdtempSync(join(tmpdir(), "rawrxd-bench-fim-"));
const modelsDirectory = join(home, "models");
mkdirSync(modelsDirectory);
await writeFimModel(join(modelsDirectory, "coder.gguf"), shape);
const server = await startBenchServer({
  home,
  modelsDirectory,
  flags: {
    parallel: "1",
    "context-size": "4096",
    threads: "1",
    "max-loaded-models": "1",
    "fim-order": values["fim-order"],
  },
});

/**
 * Streams /infill; `ms` is the time to the first SSE frame (the first token, or the end when the
 * model stops at once), `answer` comes from the last frame. Streaming keeps the audit record's
 * write, done before a response ends, out of the time to first token.
 */
async function infill(
  prefix: string,
  suffix: string,
  nPredict: number,
): Promise<{ ms: number; answer: InfillAnswer }> {
  const sentAt = systemTime.monotonicNow();
  const response = await fetch(`${server.url}/infill`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      model: "coder",
      input_prefix: prefix,
      input_suffix: suffix,
      n_predict: nPredict,
      temperature: 0,
      stream: true,
    }),
  });
  if (response.status !== 200)
    throw new Error(`infill answered ${response.status}: ${await response.text()}`);
  let firstMs: number | undefined;
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of response.body!) {
    firstMs ??= systemTime.monotonicNow() - sentAt;
    text += decoder.decode(chunk as Uint8Array, { stream: true });
  }
  const frames = text.split("\n\n").filter((frame) => frame.startsWith("data: "));
  const last = JSON.parse(frames.at(-1)!.slice("data: ".length)) as InfillAnswer & { error?: unknown };
  if (last.error !== undefined) throw new Error(`infill failed: ${JSON.stringify(last.error)}`);
  return { ms: firstMs ?? Number.NaN, answer: last };
}

// The vocabulary decides how many tokens a character is: measure it on a sample, then size the file.
const sample = sourceFile(200).slice(0, 1000);
const probe = await infill(sample, "", 1).catch(async (error: unknown) => {
  await server.close();
  throw error;
});
const charactersPerToken = sample.length / probe.answer.tokens_evaluated;
const file = sourceFile(fileTokens * 4).slice(0, Math.floor(fileTokens * charactersPerToken));
const cursor = Math.floor(file.length * 0.75);
let prefix = file.slice(0, cursor);
const suffix = file.slice(cursor);
const samples: { ms: number; promptMs: number; evaluated: number; cached: number }[] = [];
let decodeMsPerToken = Number.NaN;
let cold: { ms: number; answer: InfillAnswer } | undefined;
try {
  cold = await infill(prefix, suffix, 1);
  console.error(
    `fim bench: ${shape.name}, prompt ${cold.answer.tokens_evaluated} tokens, cold TTFT ${cold.ms.toFixed(1)} ms`,
  );
  for (let rep = 0; rep < reps; rep++) {
    prefix += promptWords[rep % promptWords.length]![0];
    const { ms, answer } = await infill(prefix, suffix, 1);
    samples.push({
      ms,
      promptMs: answer.timings.prompt_ms,
      evaluated: answer.tokens_evaluated,
      cached: answer.tokens_cached,
    });
  }
  const decode = await infill(prefix, suffix, 32);
  decodeMsPerToken = decode.answer.timings.predicted_per_token_ms;
} finally {
  await server.close();
  rmSync(home, { recursive: true, force: true });
}

const times = samples.map((sample) => sample.ms);
const promptTimes = samples.map((sample) => sample.promptMs);
console.log("");
console.log(
  formatTable(
    ["measure", "p50 ms", "p95 ms", "× token decode (p95)"],
    [
      [
        "TTFT after 1-char edit (client)",
        formatNumber(median(times), 2),
        formatNumber(percentile(times, 0.95), 2),
        formatNumber(percentile(times, 0.95) / decodeMsPerToken, 1),
      ],
      [
        "prompt_ms (server)",
        formatNumber(median(promptTimes), 2),
        formatNumber(percentile(promptTimes, 0.95), 2),
        formatNumber(percentile(promptTimes, 0.95) / decodeMsPerToken, 1),
      ],
      ["one token's decode", formatNumber(decodeMsPerToken, 2), "", ""],
    ],
  ),
);
console.log(
  `Prompt ${median(samples.map((sample) => sample.evaluated))} tokens, ${median(samples.map((sample) => sample.cached))} cached (median); cold TTFT ${formatNumber(cold?.ms ?? Number.NaN, 1)} ms. Target: p95 ≤ 2× one token's decode.`,
);
const jsonPath = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "fim", latest: "fim-latest.json", startedAt: startedAt.toISOString() },
  {
    startedAt: startedAt.toISOString(),
    model: shape.name,
    machine,
    options: values,
    decodeMsPerToken,
    coldMs: cold?.ms,
    samples,
  },
);
console.log(`Raw samples: ${jsonPath} (and results/fim-latest.json)`);
