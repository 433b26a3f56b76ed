/**
 * `npm run bench [-- --quick] [--models stories,134m] [--threads 1,2] [--suite serving|queue|all]`
 *
 * --suite: serving = the scenarios below; queue = the scheduler's mixed load and concurrency
 * (bench/queue-load.ts, results/queue-latest.json); all (default) = both, serving first.
 *
 * node-llama-cpp used directly against the same generation through RawrXD's HTTP API, side by
 * side in one run. Per model × threads: [direct block][server block] × rounds; each block
 * loads the model, warms up once, measures its reps and releases everything, so the two
 * variants never hold threads at the same time. Medians over all reps of a variant.
 */
import { join } from "node:path";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { runDirectBlock } from "./direct.js";
import { describeMachine, waitForNoChildProcesses } from "./machine.js";
import { benchDirectory, modelKeys, modelsDirectory, prepareModel, type ModelKey } from "./models.js";
import { runQueueSuite } from "./queue-load.js";
import { renderNotes, renderTable, summarizeScenario, writeReport, type ScenarioResult } from "./report.js";
import type { BlockPlan, BlockResult } from "./samples.js";
import { planScenarios, repPrompt, warmupPrompt, type Scenario } from "./scenarios.js";
import { runServerBlock } from "./through-server.js";

const contextSize = 512;
const childExitTimeoutMs = 10_000;

const suites = ["serving", "queue", "all"] as const;
type Suite = (typeof suites)[number];

function parseCommandLine(): {
  quick: boolean;
  models: ModelKey[];
  threads: number[] | undefined;
  suite: Suite;
} {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      models: { type: "string" },
      threads: { type: "string" },
      suite: { type: "string", default: "all" },
    },
    strict: true,
  });
  const models =
    values.models === undefined ? [...modelKeys] : values.models.split(",").map((name) => name.trim());
  for (const model of models) {
    if (!(modelKeys as readonly string[]).includes(model))
      throw new Error(`Unknown model "${model}"; use one of ${modelKeys.join(", ")}.`);
  }
  const threads = values.threads?.split(",").map((count) => Number.parseInt(count, 10));
  if (threads?.some((count) => !Number.isInteger(count) || count < 1))
    throw new Error(`--threads takes a list of positive integers, got "${values.threads}".`);
  if (!(suites as readonly string[]).includes(values.suite))
    throw new Error(`--suite takes one of ${suites.join(", ")}, got "${values.suite}".`);
  return { quick: values.quick, models: models as ModelKey[], threads, suite: values.suite as Suite };
}

async function runScenario(scenario: Scenario, log: (line: string) => void): Promise<ScenarioResult> {
  const model = await prepareModel(scenario.model);
  const blocks: BlockResult[] = [];
  for (let round = 0; round < scenario.rounds; round++) {
    const firstRep = round * scenario.repsPerBlock;
    const plan: BlockPlan = {
      modelPath: model.path,
      threads: scenario.threads,
      contextSize,
      maxTokens: scenario.maxTokens,
      block: round,
      warmupPrompt: warmupPrompt(scenario),
      prompts: Array.from({ length: scenario.repsPerBlock }, (_, index) => ({
        rep: firstRep + index,
        prompt: repPrompt(scenario, firstRep + index),
      })),
    };
    for (const variant of ["direct", "server"] as const) {
      const started = performance.now();
      const block =
        variant === "direct"
          ? await runDirectBlock(plan)
          : await runServerBlock({ ...plan, home: join(modelsDirectory, "home") });
      await waitForNoChildProcesses(childExitTimeoutMs);
      blocks.push(block);
      const ttft = block.samples.map((sample) => sample.timeToFirstTokenMs.toFixed(1)).join(" ");
      const rates = block.samples.map((sample) => sample.decodeTokensPerSecond.toFixed(1)).join(" ");
      log(
        `  ${model.label} T=${scenario.threads} round ${round + 1}/${scenario.rounds} ${variant.padEnd(6)} ${((performance.now() - started) / 1000).toFixed(1)} s  TTFT ms [${ttft}]  tok/s [${rates}]`,
      );
    }
  }
  return { scenario, modelLabel: model.label, modelPath: model.path, blocks };
}

async function main(): Promise<void> {
  const options = parseCommandLine();
  if (options.suite === "queue")
    return runQueueSuite({ quick: options.quick, log: (line) => console.error(line) });
  const startedAt = new Date();
  const benchStart = performance.now();
  const machine = await describeMachine();
  const scenarios = planScenarios(options);
  const log = (line: string): void => console.error(line);
  log(
    `RawrXD bench: ${machine.cpuModel}, ${machine.availableParallelism} cores, Node ${machine.nodeVersion}, node-llama-cpp ${machine.nodeLlamaCppVersion}, load ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(" ")}`,
  );
  log(
    `${scenarios.length} scenario(s)${options.quick ? " (quick)" : ""}; context ${contextSize}, parallel 1, temperature 0`,
  );

  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, log));
  const durationMs = performance.now() - benchStart;

  console.log("");
  console.log(renderTable(results));
  console.log("");
  console.log(renderNotes(results));
  console.log("");
  console.log(
    'Prompts: each rep\'s prompt starts with its own word ("alpha 0: …", "bravo 1: …"), the same for both variants, so the server\'s prefix cache ' +
      "can reuse only the BOS token and both evaluate the whole prompt every rep; the direct variant clears its sequence before each rep.",
  );
  console.log(
    "TTFT: direct = generateCompletionWithMeta call → first onToken; server = request sent → first SSE chunk with text (client, server and runner IPC included). " +
      "Decode tok/s = (completion tokens − 1) ÷ (first → last token or content chunk).",
  );
  console.log(
    "CPU ms/token: CPU time over the measured reps ÷ completion tokens; direct = this process; server = the runner process + this process " +
      "(HTTP server and bench client, all threads). CPU time is less disturbed by a busy machine than wall time.",
  );
  const path = await writeReport(join(benchDirectory, "results"), {
    startedAt: startedAt.toISOString(),
    durationMs,
    machine: { ...machine, loadAverageAtEnd: loadavg() },
    settings: { ...options, contextSize, parallel: 1, temperature: 0, scenarios },
    scenarios: results.map((result) => ({ ...result, summary: summarizeScenario(result) })),
  });
  console.log(`\nTotal ${(durationMs / 1000).toFixed(1)} s. Raw samples: ${path} (and results/latest.json)`);
  if (options.suite === "all") {
    console.log("");
    await runQueueSuite({ quick: options.quick, log });
  }
}

await main();
