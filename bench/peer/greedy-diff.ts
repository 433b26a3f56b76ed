/**
 * `node --import tsx bench/peer/greedy-diff.ts [--model 134m] [--tags 1-2,2-0,2-2] [--tokens 128] [--threads 2]
 *   [--direct-chunks 0|128] [--skip-direct] [--from-json]`
 *
 * Where RawrXD's and llama-server's greedy texts part (bench:peer's copying prompt of the 15:33
 * UTC run, 2026-12-01: 3 of 9 differed on the 134M model at 2 threads), and whether the parting
 * token is a near-tie. For each prompt: llama-server (defaults, `-c 8192 -np 4`) generates greedy
 * with `n_probs: 2` (log-probabilities over the whole vocabulary at every step); RawrXD
 * `--threads N` streams the same request (text only); node-llama-cpp — the
 * engine and binary RawrXD's runner uses — evaluates the same prompt tokens and then one token
 * per decode, as generation does, taking its own argmax with the full-vocabulary probabilities.
 * Prints, per prompt, the first step where the greedy tokens differ and both engines' top 2
 * there (log-probabilities and their gap), plus the median top-1 − top-2 gap over all steps.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { Token } from "node-llama-cpp";
import { openDirectContext } from "../lib/direct-engine.js";
import { benchDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { ServerProcess } from "../lib/server-process.js";
import { median } from "../lib/stats.js";
import { LlamaServer } from "./llama-server.js";
import { httpEngine } from "./peer-engines.js";
import { markdownTable } from "./peer-report.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "134m" },
    tags: { type: "string", default: "1-2,2-0,2-2" },
    tokens: { type: "string", default: "128" },
    threads: { type: "string", default: "2" },
    "skip-direct": { type: "boolean", default: false },
    "direct-chunks": { type: "string", default: "0" },
    /** Reuse llama-server's steps and RawrXD's texts of the last run (bench/results/greedy-diff-latest.json): only the direct part runs. */
    "from-json": { type: "boolean", default: false },
  },
  strict: true,
});
const maxTokens = Number(values.tokens);
const threads = Number(values.threads);

/** The copying prompt of that run (peer-block.ts before the copying workload became the model's own continuation). */
const passage =
  "Lily found a small red box under the big tree in the garden. She opened it and saw a shiny key. " +
  "The key was cold and bright. Lily ran to her mom and said, look what I found. Her mom smiled and " +
  "said, that key opens the old door in the attic. They went up the stairs together.";
function oldCopyPrompt(tag: string): string {
  const start = passage.split(" ").slice(0, 8).join(" ");
  return `${tag}. ${passage}\n\n${passage}\n\n${start}`;
}

interface Step {
  token: number;
  /** The token's text (llama-server's steps). */
  piece?: string;
  /** The two most likely tokens and their log-probabilities (whole vocabulary). */
  top: { token: number; logprob: number }[];
}

interface Reference {
  tokens: number[];
  steps: Step[];
  text: string;
}

const model = await prepareModel(values.model as ModelKey);
const prompts = values.tags.split(",").map((tag) => ({ tag, prompt: oldCopyPrompt(tag) }));

// llama-server: prompt tokens, greedy steps with top-2 log-probabilities.
const latestPath = join(benchDirectory, "results", "greedy-diff-latest.json");
const earlier = values["from-json"]
  ? (JSON.parse(await readFile(latestPath, "utf8")) as { reference: Reference[]; served: string[] })
  : undefined;
const reference: Reference[] = earlier?.reference ?? [];
const served: string[] = earlier?.served ?? [];
if (earlier === undefined) await serveBoth();

async function serveBoth(): Promise<void> {
  const server = await LlamaServer.start(model.path, ["-c", "8192", "-np", "4"]);
  try {
    for (const { prompt } of prompts) {
      const post = async <T>(path: string, body: unknown): Promise<T> =>
        (await (
          await fetch(`${server.url}${path}`, { method: "POST", body: JSON.stringify(body) })
        ).json()) as T;
      const { tokens } = await post<{ tokens: number[] }>("/tokenize", {
        content: prompt,
        add_special: true,
      });
      const done = await post<{
        content: string;
        completion_probabilities: {
          id: number;
          token: string;
          top_logprobs: { id: number; logprob: number }[];
        }[];
      }>("/completion", {
        prompt: tokens,
        n_predict: maxTokens,
        temperature: 0,
        n_probs: 2,
        cache_prompt: false,
      });
      reference.push({
        tokens,
        text: done.content,
        steps: done.completion_probabilities.map((step) => ({
          token: step.id,
          piece: step.token,
          top: step.top_logprobs.map((entry) => ({ token: entry.id, logprob: entry.logprob })),
        })),
      });
    }
  } finally {
    await server.stop();
  }

  // RawrXD: the greedy text it serves for the same prompts.
  const home = mkdtempSync(join(tmpdir(), "rawrxd-greedy-diff-"));
  const rawrxd = await ServerProcess.start({
    home,
    modelsDirectory: dirname(model.path),
    flags: ["--threads", String(threads), "--no-demo-model"],
    startTimeoutMs: 60_000,
  });
  try {
    const engine = httpEngine({ url: rawrxd.url, model: basename(model.path, ".gguf"), pid: rawrxd.pid });
    for (const { prompt } of prompts) served.push((await engine.generate(prompt, maxTokens)).text);
    await engine.close();
  } finally {
    await rawrxd.stop(30_000);
    rmSync(home, { recursive: true, force: true });
  }
}

// node-llama-cpp: the prompt in one evaluation, then one token per decode with its own argmax.
const { llama, context } = await openDirectContext({
  modelPath: model.path,
  threads,
  contextSize: 8192,
  sequences: 1,
});
const direct: { steps: Step[]; text: string }[] = [];
const probabilityOptions = { temperature: 1, topK: 0, topP: 1, minP: 0 };
try {
  const sequence = context.getSequence();
  for (const { tokens } of values["skip-direct"] ? [] : reference) {
    await sequence.clearHistory();
    const steps: Step[] = [];
    const last = tokens.length - 1;
    // --direct-chunks N: the prompt but its last token in chunks of N, then the last token alone
    // (as RawrXD's runner prefills, generation.ts); 0: the whole prompt in one batch (llama-server).
    const chunk = Number(values["direct-chunks"]);
    const prefix = chunk > 0 ? tokens.slice(0, last) : [];
    for (let start = 0; start < prefix.length; start += chunk) {
      await sequence.controlledEvaluate(prefix.slice(start, start + chunk) as Token[]);
    }
    let input: Parameters<typeof sequence.controlledEvaluate>[0] = tokens
      .slice(prefix.length)
      .map((token, index, rest) =>
        index === rest.length - 1
          ? [token as Token, { generateNext: { probabilities: true, options: probabilityOptions } }]
          : (token as Token),
      );
    for (let step = 0; step < maxTokens; step++) {
      const output = await sequence.controlledEvaluate(input);
      const probabilities = output.at(-1)?.next.probabilities;
      if (probabilities === undefined) break;
      const top = [...probabilities.entries()]
        .sort((left, right) => right[1] - left[1])
        .slice(0, 2)
        .map(([token, probability]) => ({ token: token, logprob: Math.log(probability) }));
      const token = top[0]!.token;
      steps.push({ token, top });
      if (context.model.isEogToken(token)) break;
      input = [[token, { generateNext: { probabilities: true, options: probabilityOptions } }]];
    }
    direct.push({ steps, text: context.model.detokenize(steps.map((step) => step.token as Token)) });
  }
} catch (error) {
  await llama.dispose();
  throw error;
}

const vocabulary = context.model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const piece = (token: number): string => JSON.stringify(context.model.detokenize([token as Token]));
const topText = (step: Step | undefined): string =>
  step === undefined
    ? "–"
    : `${step.top.map((entry) => `${piece(entry.token)} ${entry.logprob.toFixed(4)}`).join(", ")} (gap ${(step.top[0]!.logprob - step.top[1]!.logprob).toFixed(4)})`;
/** Where RawrXD's text leaves llama-server's: the llama-server step holding that character. */
function servedParting(text: string, steps: readonly Step[]): { step: number; char: number } | undefined {
  let char = 0;
  while (char < text.length && char < steps.map((step) => step.piece ?? "").join("").length) {
    const expected = steps.map((step) => step.piece ?? "").join("");
    if (text[char] !== expected[char]) break;
    char += 1;
  }
  let length = 0;
  for (const [index, step] of steps.entries()) {
    length += (step.piece ?? "").length;
    if (length > char) return { step: index, char };
  }
  return text.length === length ? undefined : { step: steps.length, char };
}
const rows = prompts.map(({ tag }, index) => {
  const ours = direct[index];
  const theirs = reference[index]!;
  const text = served[index]!;
  const first =
    ours === undefined
      ? -2
      : theirs.steps.findIndex((step, position) => ours.steps[position]?.token !== step.token);
  const parting = servedParting(text, theirs.steps);
  return [
    tag,
    parting === undefined
      ? "same"
      : `step ${parting.step}: ${JSON.stringify(text.slice(parting.char, parting.char + 12))} vs ${JSON.stringify(theirs.text.slice(parting.char, parting.char + 12))}; llama-server there: ${topText(theirs.steps[parting.step])}`,
    ours === undefined ? "–" : text === ours.text ? "same" : "differs",
    first === -2 ? "skipped" : first < 0 ? "none" : String(first),
    ours === undefined || first < 0 ? "–" : topText(ours.steps[first]),
  ];
});
console.log(
  markdownTable(
    [
      "prompt",
      "RawrXD vs llama-server: first differing step, texts there, llama-server's top 2 (log p)",
      "RawrXD vs node-llama-cpp direct text",
      "first differing step, direct vs llama-server",
      "node-llama-cpp top 2 there (log p)",
    ],
    rows,
  ),
);
await writeFile(
  values["from-json"]
    ? join(benchDirectory, "results", `greedy-diff-direct-chunks-${values["direct-chunks"]}.json`)
    : latestPath,
  JSON.stringify({ prompts, reference, served, direct }, null, 1),
);
const gaps = reference.flatMap((entry) =>
  entry.steps.map((step) => step.top[0]!.logprob - step.top[1]!.logprob),
);
console.log(
  `\nllama-server, all ${gaps.length} steps: median top-1 − top-2 gap ${median(gaps).toFixed(4)} nats, top-1 log p median ${median(reference.flatMap((entry) => entry.steps.map((step) => step.top[0]!.logprob))).toFixed(3)} (uniform over the vocabulary: ${(-Math.log(vocabulary)).toFixed(3)}).`,
);
await llama.dispose();
