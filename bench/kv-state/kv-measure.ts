/**
 * Saved KV state measured through the real server (docs/decisions/0022), shared by
 * `npm run bench:kv-state` and the peer benchmark's cache and resume rows:
 *   restart     time to first token of the first request on a long system prompt after a server
 *               restart, with --prompt-cache (its prefix saved by an earlier server) and without.
 *               Each server first answers a short unrelated request, so the model load is not
 *               part of the measured TTFT.
 *   preemption  a low-priority stream is preempted by high-priority requests while its reader
 *               pauses; request-end's reevaluatedTokens counts tokens evaluated again on resume.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { RunningServer } from "../../src/app/index.js";
import type { ServerEvents } from "../../src/core/index.js";
import { completionBody, startBenchServer, streamTiming } from "../lib/bench-server.js";
import type { BenchModel } from "../lib/models.js";
import { promptWords } from "../lib/prompt-words.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { median } from "../lib/stats.js";

export interface KvPlan {
  model: BenchModel;
  /** A folder this module may write to (server homes, the prompt cache); the caller removes it. */
  root: string;
  /** Server flags beside the defaults here (threads 1, parallel 1, the context size). */
  flags?: Readonly<Record<string, string>>;
}

/** The context the kv-state measurements run with: stories260K was trained on 512 tokens. */
export function kvContextSize(model: BenchModel): string {
  return model.key === "stories" ? "512" : "4096";
}

/** ~`words` plain words after an instruction; 750 words are about 2,000 tokens of the 134M model. */
export function systemPromptOf(words: number): string {
  return `You are a helpful assistant. Notes: ${Array.from(
    { length: words },
    (_, index) => promptWords[(index * 7) % promptWords.length],
  ).join(" ")}.`;
}

export async function withKvServer<T>(
  plan: KvPlan,
  flags: Record<string, string>,
  body: (server: RunningServer) => Promise<T>,
): Promise<T> {
  const home = mkdtempSync(join(plan.root, "home-"));
  const server = await startBenchServer({
    home,
    modelsDirectory: dirname(plan.model.path),
    flags: {
      parallel: "1",
      threads: "1",
      "context-size": kvContextSize(plan.model),
      ...plan.flags,
      ...flags,
    },
  });
  try {
    return await body(server);
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export interface FirstRequest {
  timeToFirstTokenMs: number;
  promptTokens: number;
  cachedTokens: number;
  text: string;
}

/** The measured request on the system prompt: a short question after it, 16 greedy tokens. */
export function systemPromptRequest(systemPrompt: string, question: string): string {
  return `${systemPrompt}\nQuestion: ${question}\nAnswer:`;
}

/** A fresh server: a short request loads the model, then the measured one on the system prompt. */
export async function firstRequestAfterStart(
  plan: KvPlan,
  flags: Record<string, string>,
  prompt: string,
): Promise<FirstRequest> {
  const model = basename(plan.model.path, ".gguf");
  return withKvServer(plan, flags, async (server) => {
    const client = new CompletionStreamClient(server.url);
    try {
      await client.stream(completionBody({ model, prompt: "Hello", maxTokens: 2 }));
      const streamed = await client.stream(completionBody({ model, prompt, maxTokens: 16 }));
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

export interface RestartRow {
  cache: FirstRequest;
  none: FirstRequest;
}

export interface RestartResult {
  rows: RestartRow[];
  cacheTtftMs: number;
  noneTtftMs: number;
  /** none ÷ cache (median TTFTs). */
  gain: number;
  sameText: number;
}

/** An earlier server saves the prefix, then per rep a restart without and with --prompt-cache. */
export async function measureRestart(
  plan: KvPlan & { systemWords: number; reps: number; log: (line: string) => void },
): Promise<RestartResult> {
  const systemPrompt = systemPromptOf(plan.systemWords);
  const cacheDirectory = mkdtempSync(join(plan.root, "prompt-cache-"));
  const withCache = { "prompt-cache": cacheDirectory };
  await firstRequestAfterStart(plan, withCache, systemPromptRequest(systemPrompt, "What is first?"));
  const rows: RestartRow[] = [];
  for (let rep = 0; rep < plan.reps; rep++) {
    const prompt = systemPromptRequest(systemPrompt, `What is note ${rep + 2}?`);
    const none = await firstRequestAfterStart(plan, {}, prompt);
    const cache = await firstRequestAfterStart(plan, withCache, prompt);
    rows.push({ cache, none });
    plan.log(
      `  restart rep ${rep + 1}: prompt ${none.promptTokens} tokens; cache TTFT ${cache.timeToFirstTokenMs.toFixed(1)} ms (cached ${cache.cachedTokens}), none ${none.timeToFirstTokenMs.toFixed(1)} ms; same text: ${cache.text === none.text}`,
    );
  }
  rmSync(cacheDirectory, { recursive: true, force: true });
  const cacheTtftMs = median(rows.map((row) => row.cache.timeToFirstTokenMs));
  const noneTtftMs = median(rows.map((row) => row.none.timeToFirstTokenMs));
  return {
    rows,
    cacheTtftMs,
    noneTtftMs,
    gain: noneTtftMs / cacheTtftMs,
    sameText: rows.filter((row) => row.cache.text === row.none.text).length,
  };
}

export interface PreemptionRun {
  preemptions: number;
  reevaluatedTokens: number;
  completionTokens: number;
  /** The low request's prompt tokens (a resume without saved state evaluates them and the tokens so far again). */
  promptTokens: number;
  sameText: boolean;
}

export interface PreemptionResult {
  rows: PreemptionRun[];
  preemptions: number;
  reevaluatedTokens: number;
  completionTokens: number;
  sameText: number;
}

const lowPrompt = "Once upon a time, there was a little girl named Lily.";

async function readAll(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  decoder: { decode(chunk: Uint8Array): string },
): Promise<string> {
  let text = "";
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) return text;
    text += decoder.decode(chunk.value);
  }
}

/** A low-priority stream whose reader pauses while `preemptions` high-priority requests take its sequence. */
export async function measurePreemption(
  plan: KvPlan & { reps: number; preemptions: number; log: (line: string) => void },
): Promise<PreemptionResult> {
  const model = basename(plan.model.path, ".gguf");
  const rows = await withKvServer(plan, {}, async (server) => {
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
    const runs: PreemptionRun[] = [];
    for (let rep = 0; rep < plan.reps; rep++) {
      const id = `kv-bench-low-${rep}`;
      const low = await post({ ...lowBody, stream: true }, { "X-Priority": "low", "X-Request-Id": id });
      const reader = low.body!.getReader();
      const decoder = new TextDecoder();
      let sse = decoder.decode((await reader.read()).value as Uint8Array);
      // The reader pauses (the low stream stalls on credit) while high requests take its sequence.
      for (let index = 0; index < plan.preemptions; index++) {
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
      sse += await readAll(reader, decoder);
      const text = sse
        .split("\n\n")
        .filter((frame) => frame.startsWith("data: {"))
        .map(
          (frame) => (JSON.parse(frame.slice(6)) as { choices: { text?: string }[] }).choices[0]?.text ?? "",
        )
        .join("");
      const end = ends.get(id);
      runs.push({
        preemptions: end?.preemptions ?? 0,
        reevaluatedTokens: end?.reevaluatedTokens ?? 0,
        completionTokens: end?.completionTokens ?? 0,
        promptTokens: end?.promptTokens ?? Number.NaN,
        sameText: text === expected,
      });
      plan.log(`  preemption rep ${rep + 1}: ${JSON.stringify(runs.at(-1))}`);
    }
    return runs;
  });
  const sum = (pick: (row: PreemptionRun) => number): number =>
    rows.reduce((total, row) => total + pick(row), 0);
  return {
    rows,
    preemptions: sum((row) => row.preemptions),
    reevaluatedTokens: sum((row) => row.reevaluatedTokens),
    completionTokens: sum((row) => row.completionTokens),
    sameText: rows.filter((row) => row.sameText).length,
  };
}
