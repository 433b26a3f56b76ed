/**
 * `npm run bench:kv-state -- [--model 134m|stories] [--reps 3] [--system-words 750] [--preemptions 4]`
 *
 * Saved KV state (docs/decisions/0022), through the real server (threads 1, parallel 1); 750 system
 * words are about 2,000 tokens of the synthetic 134M model.
 *   restart     time to first token of the first request on a long system prompt after a server
 *               restart, with --prompt-cache (its prefix saved by an earlier server) and without.
 *               Each server first answers a short unrelated request, so the model load is not
 *               part of the measured TTFT. Target: cache ≥ 5× faster, identical greedy text.
 *   preemption  a low-priority stream is preempted by high-priority requests while its reader
 *               pauses; request-end's reevaluatedTokens counts tokens evaluated again on resume.
 *               Target: 0, and the same greedy text as without preemption.
 * Smoke run: `--model stories --system-words 60 --reps 1` (stories260K has a 512-token context).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { RunningServer } from "../../src/app/index.js";
import { systemTime, type ServerEvents } from "../../src/core/index.js";
import { completionBody, startBenchServer, streamTiming } from "../lib/bench-server.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { promptWords } from "../lib/prompt-words.js";
import { writeResultFiles } from "../lib/results.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "134m" },
    reps: { type: "string", default: "3" },
    "system-words": { type: "string", default: "750" },
    preemptions: { type: "string", default: "4" },
  },
  strict: true,
});
const reps = Number(values.reps);
const systemWords = Number(values["system-words"]);
const preemptions = Number(values.preemptions);
const contextSize = values.model === "stories" ? "512" : "4096";

const startedAt = new Date(systemTime.wallNow());
const machine = await describeMachine();
const benchModel = await prepareModel(values.model as ModelKey);
const model = basename(benchModel.path, ".gguf");
const root = mkdtempSync(join(tmpdir(), "rawrxd-bench-kv-"));
const cacheDirectory = join(root, "prompt-cache");
const systemPrompt = `You are a helpful assistant. Notes: ${Array.from(
  { length: systemWords },
  (_, index) => promptWords[(index * 7) % promptWords.length],
).join(" ")}.`;
console.error(
  `kv-state bench: ${benchModel.label}, ${machine.cpuModel}, ${machine.availableParallelism} cores; ${reps} reps, ${systemWords} system words, threads 1, parallel 1, context ${contextSize}`,
);

async function withServer<T>(
  flags: Record<string, string>,
  body: (server: RunningServer) => Promise<T>,
): Promise<T> {
  const home = mkdtempSync(join(root, "home-"));
  const server = await startBenchServer({
    home,
    modelsDirectory: dirname(benchModel.path),
    flags: { parallel: "1", threads: "1", "context-size": contextSize, ...flags },
  });
  try {
    return await body(server);
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
}

interface FirstRequest {
  timeToFirstTokenMs: number;
  promptTokens: number;
  cachedTokens: number;
  text: string;
}

/** A fresh server: a short request loads the model, then the measured one on the system prompt. */
async function firstRequestAfterStart(
  flags: Record<string, string>,
  question: string,
): Promise<FirstRequest> {
  return withServer(flags, async (server) => {
    const client = new CompletionStreamClient(server.url);
    try {
      await client.stream(completionBody({ model, prompt: "Hello", maxTokens: 2 }));
      const streamed = await client.stream(
        completionBody({ model, prompt: `${systemPrompt}\nQuestion: ${question}\nAnswer:`, maxTokens: 16 }),
      );
      return {
        timeToFirstTokenMs: streamTiming(streamed).timeToFirstTokenMs,
        promptTokens: streamed.usage?.prompt_tokens ?? Number.NaN,
        cachedTokens: streamed.usage?.prompt_tokens_details?.cached_tokens ?? Number.NaN,
        text: streamed.text,
      };
    } finally {
      client.close();
    }
  });
}

const restartRows: { cache: FirstRequest; none: FirstRequest }[] = [];
// An earlier server saves the system prompt's prefix (as its first user would).
await firstRequestAfterStart({ "prompt-cache": cacheDirectory }, "What is first?");
for (let rep = 0; rep < reps; rep++) {
  const question = `What is note ${rep + 2}?`;
  const none = await firstRequestAfterStart({}, question);
  const cache = await firstRequestAfterStart({ "prompt-cache": cacheDirectory }, question);
  restartRows.push({ cache, none });
  console.error(
    `  restart rep ${rep + 1}: prompt ${none.promptTokens} tokens; cache TTFT ${cache.timeToFirstTokenMs.toFixed(1)} ms (cached ${cache.cachedTokens}), none ${none.timeToFirstTokenMs.toFixed(1)} ms; same text: ${cache.text === none.text}`,
  );
}

interface PreemptionRun {
  preemptions: number;
  reevaluatedTokens: number;
  completionTokens: number;
  sameText: boolean;
}

const lowPrompt = "Once upon a time, there was a little girl named Lily.";
const preemptionRows = await withServer({}, async (server) => {
  const ends = new Map<string, ServerEvents["request-end"]>();
  server.events.on("request-end", (event) => ends.set(event.requestId, event));
  const post = (body: unknown, headers: Record<string, string>): Promise<Response> =>
    fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const lowBody = { model, prompt: lowPrompt, max_tokens: 400, temperature: 0 };
  const expected = ((await (await post(lowBody, {})).json()) as { choices: { text: string }[] }).choices[0]!
    .text;
  const rows: PreemptionRun[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const id = `kv-bench-low-${rep}`;
    const low = await post({ ...lowBody, stream: true }, { "X-Priority": "low", "X-Request-Id": id });
    const reader = low.body!.getReader();
    const decoder = new TextDecoder();
    let sse = decoder.decode((await reader.read()).value as Uint8Array);
    // The reader pauses (the low stream stalls on credit) while high requests take its sequence.
    for (let index = 0; index < preemptions; index++) {
      await (
        await post(
          { model, prompt: `The dog number ${index}`, max_tokens: 8, temperature: 0 },
          { "X-Priority": "high" },
        )
      ).text();
      const chunk = await reader.read();
      if (chunk.done) break;
      sse += decoder.decode(chunk.value as Uint8Array);
    }
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      sse += decoder.decode(chunk.value as Uint8Array);
    }
    const text = sse
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: {"))
      .map((frame) => (JSON.parse(frame.slice(6)) as { choices: { text?: string }[] }).choices[0]?.text ?? "")
      .join("");
    const end = ends.get(id);
    rows.push({
      preemptions: end?.preemptions ?? 0,
      reevaluatedTokens: end?.reevaluatedTokens ?? 0,
      completionTokens: end?.completionTokens ?? 0,
      sameText: text === expected,
    });
    console.error(`  preemption rep ${rep + 1}: ${JSON.stringify(rows.at(-1))}`);
  }
  return rows;
});
rmSync(root, { recursive: true, force: true });

const cacheMs = median(restartRows.map((row) => row.cache.timeToFirstTokenMs));
const noneMs = median(restartRows.map((row) => row.none.timeToFirstTokenMs));
console.log("");
console.log(
  formatTable(
    ["first request after restart", "prompt tokens", "cached tokens", "TTFT p50 ms"],
    (["cache", "none"] as const).map((variant) => [
      variant === "cache" ? "--prompt-cache" : "no cache",
      formatNumber(median(restartRows.map((row) => row[variant].promptTokens)), 0),
      formatNumber(median(restartRows.map((row) => row[variant].cachedTokens)), 0),
      formatNumber(median(restartRows.map((row) => row[variant].timeToFirstTokenMs)), 1),
    ]),
  ),
);
const totalPreemptions = preemptionRows.reduce((sum, row) => sum + row.preemptions, 0);
const totalReevaluated = preemptionRows.reduce((sum, row) => sum + row.reevaluatedTokens, 0);
console.log("");
console.log(
  `Prompt cache: ${formatNumber(noneMs / cacheMs, 1)}× faster to first token after a restart (target ≥ 5×); identical greedy text ${restartRows.filter((row) => row.cache.text === row.none.text).length}/${restartRows.length}.`,
);
console.log(
  `Preemption: ${totalPreemptions} preemptions, ${totalReevaluated} tokens re-evaluated on resume (target 0); text unchanged ${preemptionRows.filter((row) => row.sameText).length}/${preemptionRows.length}.`,
);
const jsonPath = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "kv-state", latest: "kv-state-latest.json", startedAt: startedAt.toISOString() },
  {
    startedAt: startedAt.toISOString(),
    model: benchModel.label,
    machine,
    options: values,
    cacheTtftMs: cacheMs,
    noneTtftMs: noneMs,
    restartRows,
    preemptionRows,
    totalPreemptions,
    totalReevaluated,
  },
);
console.log(`Raw samples: ${jsonPath} (and results/kv-state-latest.json)`);
