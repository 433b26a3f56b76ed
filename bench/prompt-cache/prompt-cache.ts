/**
 * `npm run bench:prompt-cache -- [--model 134m|stories] [--reps 4] [--history-words 380]`
 *
 * Time to first token of a chat's next turn after a ~1,000-token history, through the real
 * server (runner on the CPU, --parallel 1, --context-size 2048), with and without prompt reuse:
 *   reuse  the sequence still holds the previous turn: only the new user message is evaluated
 *   none   an unrelated request took the sequence in between: the whole history is evaluated
 * Same request both times, greedy, so the outputs must be identical. Target: reuse ≥ 5× faster.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { startBenchServer, streamTiming } from "../lib/bench-server.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { promptWords } from "../lib/prompt-words.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

interface Turn {
  timeToFirstTokenMs: number;
  text: string;
  promptTokens: number;
  cachedTokens: number;
}

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "134m" },
    reps: { type: "string", default: "4" },
    "history-words": { type: "string", default: "380" },
  },
  strict: true,
});
const reps = Number(values.reps);
const historyWords = Number(values["history-words"]);
const words = promptWords;

/** A long earlier exchange: the history the next turn carries. */
function history(rep: number): Message[] {
  const text = (count: number, offset: number): string =>
    Array.from({ length: count }, (_, index) => words[(index * 7 + offset) % words.length]).join(" ");
  return [
    { role: "system", content: `You are a helpful assistant. Conversation ${rep}.` },
    { role: "user", content: `Please remember these notes: ${text(historyWords, rep)}.` },
    { role: "assistant", content: `I will remember them: ${text(Math.round(historyWords / 10), rep + 3)}.` },
    { role: "user", content: "Which note comes first?" },
  ];
}

async function chat(client: CompletionStreamClient, messages: Message[]): Promise<Turn> {
  const streamed = await client.stream({
    model,
    messages,
    max_tokens: 16,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  return {
    timeToFirstTokenMs: streamTiming(streamed).timeToFirstTokenMs,
    text: streamed.text,
    promptTokens: streamed.usage?.prompt_tokens ?? Number.NaN,
    cachedTokens: streamed.usage?.prompt_tokens_details?.cached_tokens ?? Number.NaN,
  };
}

const startedAt = new Date(systemTime.wallNow());
const machine = await describeMachine();
const benchModel = await prepareModel(values.model as ModelKey);
const model = basename(benchModel.path, ".gguf");
const home = mkdtempSync(join(tmpdir(), "rawrxd-bench-cache-"));
console.error(
  `prompt-cache bench: ${benchModel.label}, ${machine.cpuModel}, ${machine.availableParallelism} cores, load ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(" ")}; ${reps} reps, threads 1, parallel 1, context 2048`,
);
const server = await startBenchServer({
  home,
  modelsDirectory: dirname(benchModel.path),
  flags: { parallel: "1", "context-size": "2048", threads: "1", "max-loaded-models": "1" },
});
const client = new CompletionStreamClient(server.url, "/v1/chat/completions");
const rows: { reuse: Turn; none: Turn }[] = [];
try {
  await chat(client, [{ role: "user", content: "warm up" }]);
  for (let rep = 0; rep < reps; rep++) {
    const earlier = history(rep);
    // The previous turn: it leaves the whole history (and its answer) in the sequence.
    const previous = await chat(client, earlier);
    const nextTurn: Message[] = [
      ...earlier,
      { role: "assistant", content: previous.text },
      { role: "user", content: "What was the third note?" },
    ];
    const reuse = await chat(client, nextTurn);
    // Something else takes the one sequence; the same next turn now starts from nothing.
    await chat(client, [{ role: "user", content: `zebra ${rep}` }]);
    const none = await chat(client, nextTurn);
    rows.push({ reuse, none });
    console.error(
      `  rep ${rep + 1}: prompt ${reuse.promptTokens} tokens; reuse TTFT ${reuse.timeToFirstTokenMs.toFixed(1)} ms (cached ${reuse.cachedTokens}), none ${none.timeToFirstTokenMs.toFixed(1)} ms (cached ${none.cachedTokens}); same text: ${reuse.text === none.text}`,
    );
  }
} finally {
  client.close();
  await server.close();
  rmSync(home, { recursive: true, force: true });
}

const reuseMs = median(rows.map((row) => row.reuse.timeToFirstTokenMs));
const noneMs = median(rows.map((row) => row.none.timeToFirstTokenMs));
console.log("");
console.log(
  formatTable(
    ["variant", "prompt tokens", "cached tokens", "TTFT p50 ms", "TTFT min-max ms"],
    (["reuse", "none"] as const).map((variant) => {
      const turns = rows.map((row) => row[variant]);
      const times = turns.map((turn) => turn.timeToFirstTokenMs);
      return [
        variant,
        formatNumber(median(turns.map((turn) => turn.promptTokens)), 0),
        formatNumber(median(turns.map((turn) => turn.cachedTokens)), 0),
        formatNumber(median(times), 1),
        `${formatNumber(Math.min(...times), 1)}-${formatNumber(Math.max(...times), 1)}`,
      ];
    }),
  ),
);
console.log("");
console.log(
  `Reuse is ${formatNumber(noneMs / reuseMs, 1)}× faster to first token (target ≥ 5×). Identical greedy output with and without reuse: ${rows.filter((row) => row.reuse.text === row.none.text).length}/${rows.length}.`,
);
const jsonPath = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "prompt-cache", latest: "prompt-cache-latest.json", startedAt: startedAt.toISOString() },
  {
    startedAt: startedAt.toISOString(),
    model: benchModel.label,
    machine,
    options: values,
    reuseTtftMs: reuseMs,
    noneTtftMs: noneMs,
    rows,
  },
);
console.log(`Raw samples: ${jsonPath} (and results/prompt-cache-latest.json)`);
