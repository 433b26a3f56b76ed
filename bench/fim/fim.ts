/**
 * `npm run bench:fim -- [--quick] [--model tiny|134m] [--reps 20] [--file-tokens 2000] [--fim-order psm|spm]`
 *
 * Fill-in-the-middle latency after a one-character edit, through the three request shapes editors
 * send: llama-server's `POST /infill` (llama.vscode), `POST /v1/completions` with `suffix`
 * (OpenAI-compatible plugins) and `POST /api/generate` with `suffix` (Continue's Ollama provider).
 * A ~2,000-token file, the cursor three quarters in, one character typed before the cursor per
 * rep, then a streamed request (an editor's keystroke). The prompt before the edit is still in the
 * sequence, so only the tokens from the edit on are evaluated. Reports p50/p95 of the time to first
 * token (client: the first streamed frame; server: the prompt time where the shape reports it)
 * against one token's decode time (predicted_per_token_ms of a 32-token /infill). Target: p95 ≤ 2×
 * a token's decode time. `--quick`: 3 reps on a 300-token file, a smoke run. The model is
 * synthetic, with FIM tokens in its metadata (stories260K has none).
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
import { fimShapes, type FimSample } from "./shapes.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    model: { type: "string", default: "tiny" },
    reps: { type: "string" },
    "file-tokens": { type: "string" },
    "fim-order": { type: "string", default: "psm" },
  },
  strict: true,
});
const reps = Number(values.reps ?? (values.quick ? 3 : 20));
const fileTokens = Number(values["file-tokens"] ?? (values.quick ? 300 : 2000));
const preset = values.model === "134m" ? "llama-134m" : "tiny";
const shape = { ...syntheticModelShapes[preset], contextLength: 4096, name: `synthetic-fim-${preset}` };

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

const shapes = fimShapes({ url: server.url, model: "coder", time: systemTime });
const [infillShape] = shapes;
interface ShapeResult {
  name: string;
  coldMs: number;
  promptTokens: number;
  samples: FimSample[];
}
const results: ShapeResult[] = [];
let decodeMsPerToken = Number.NaN;
let decodePrefix = "";
try {
  // The vocabulary decides how many tokens a character is: measure it on a sample, then size the file.
  const sample = sourceFile(200).slice(0, 1000);
  const probe = await infillShape!.send(sample, "", 1);
  const charactersPerToken = sample.length / (probe.evaluated + (probe.cached ?? 0));
  const file = sourceFile(fileTokens * 4).slice(0, Math.floor(fileTokens * charactersPerToken));
  const cursor = Math.floor(file.length * 0.75);
  const suffix = file.slice(cursor);
  // One shape after another: with one sequence, interleaving them would defeat the prefix reuse.
  for (const fim of shapes) {
    let prefix = file.slice(0, cursor);
    const cold = await fim.send(prefix, suffix, 1);
    const promptTokens = cold.evaluated + (cold.cached ?? 0);
    console.error(`fim bench: ${fim.name}, first request's TTFT ${cold.ms.toFixed(1)} ms`);
    const samples: FimSample[] = [];
    for (let rep = 0; rep < reps; rep++) {
      prefix += promptWords[rep % promptWords.length]![0];
      samples.push(await fim.send(prefix, suffix, 1));
    }
    results.push({ name: fim.name, coldMs: cold.ms, promptTokens, samples });
    if (fim === infillShape) decodePrefix = prefix;
  }
  // On the last edited prefix, as an editor's next request (the original one may end at once).
  decodeMsPerToken = (await infillShape!.send(decodePrefix, suffix, 32)).decodeMsPerToken ?? Number.NaN;
} finally {
  await server.close();
  rmSync(home, { recursive: true, force: true });
}

const p95 = (values: readonly number[]) => percentile(values, 0.95);
const cell = (value: number | undefined, digits: number) =>
  value === undefined || Number.isNaN(value) ? "-" : formatNumber(value, digits);
const rows = results.map(({ name, samples }) => {
  const times = samples.map((sample) => sample.ms);
  const promptTimes = samples.flatMap((sample) => (sample.promptMs === undefined ? [] : [sample.promptMs]));
  const cached = samples.flatMap((sample) => (sample.cached === undefined ? [] : [sample.cached]));
  return [
    name,
    cell(median(times), 2),
    cell(p95(times), 2),
    cell(p95(times) / decodeMsPerToken, 1),
    cell(promptTimes.length === 0 ? undefined : median(promptTimes), 2),
    cell(promptTimes.length === 0 ? undefined : p95(promptTimes), 2),
    cell(median(samples.map((sample) => sample.evaluated)), 0),
    cell(cached.length === 0 ? undefined : median(cached), 0),
  ];
});
console.log("");
console.log(
  formatTable(
    [
      "request shape",
      "TTFT p50 ms",
      "TTFT p95 ms",
      "p95 × decode",
      "server prompt p50 ms",
      "p95 ms",
      "evaluated",
      "cached",
    ],
    rows,
  ),
);
console.log(
  `One token's decode: ${cell(decodeMsPerToken, 2)} ms. TTFT after a one-character edit (client, first streamed frame); evaluated and cached prompt tokens are medians. Target: p95 ≤ 2× one token's decode.`,
);
const jsonPath = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "fim", latest: "fim-latest.json", startedAt: startedAt.toISOString() },
  {
    startedAt: startedAt.toISOString(),
    model: shape.name,
    machine,
    options: { ...values, reps, fileTokens },
    decodeMsPerToken,
    shapes: results,
  },
);
console.log(`Raw samples: ${jsonPath} (and results/fim-latest.json)`);
