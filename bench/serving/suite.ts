/**
 * The serving suite: node-llama-cpp used directly against the same generation through RawrXD's
 * HTTP API, side by side in one run. Per model × threads: [direct block][server block] × rounds;
 * each block loads the model, warms up once, measures its reps and releases everything, so the
 * two variants never hold threads at the same time. Medians over all reps of a variant.
 */
import { join } from "node:path";
import { loadavg } from "node:os";
import { systemTime } from "../../src/core/index.js";
import { describeMachine, waitForNoChildProcesses } from "../lib/machine.js";
import { benchDirectory, modelsDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import type { BlockPlan, BlockResult } from "../lib/samples.js";
import { runDirectBlock } from "./direct.js";
import { renderNotes, renderTable, summarizeScenario, writeReport, type ScenarioResult } from "./report.js";
import { planScenarios, repPrompt, warmupPrompt, type Scenario } from "./scenarios.js";
import { runServerBlock } from "./through-server.js";

const contextSize = 512;
const childExitTimeoutMs = 10_000;

export interface ServingSuiteOptions {
  quick: boolean;
  models: ModelKey[];
  threads: number[] | undefined;
  /** The --suite asked for, recorded in the results. */
  suite: string;
  log: (line: string) => void;
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
      const started = systemTime.monotonicNow();
      const block =
        variant === "direct"
          ? await runDirectBlock(plan)
          : await runServerBlock({ ...plan, home: join(modelsDirectory, "home") });
      await waitForNoChildProcesses(childExitTimeoutMs);
      blocks.push(block);
      const ttft = block.samples.map((sample) => sample.timeToFirstTokenMs.toFixed(1)).join(" ");
      const rates = block.samples.map((sample) => sample.decodeTokensPerSecond.toFixed(1)).join(" ");
      log(
        `  ${model.label} T=${scenario.threads} round ${round + 1}/${scenario.rounds} ${variant.padEnd(6)} ${((systemTime.monotonicNow() - started) / 1000).toFixed(1)} s  TTFT ms [${ttft}]  tok/s [${rates}]`,
      );
    }
  }
  return { scenario, modelLabel: model.label, modelPath: model.path, blocks };
}

/** Runs every scenario, prints the table and notes, writes results/latest.json. */
export async function runServingSuite(options: ServingSuiteOptions): Promise<void> {
  const { log, ...settings } = options;
  const startedAt = new Date(systemTime.wallNow());
  const benchStart = systemTime.monotonicNow();
  const machine = await describeMachine();
  const scenarios = planScenarios(options);
  log(
    `RawrXD bench: ${machine.cpuModel}, ${machine.availableParallelism} cores, Node ${machine.nodeVersion}, node-llama-cpp ${machine.nodeLlamaCppVersion}, load ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(" ")}`,
  );
  log(
    `${scenarios.length} scenario(s)${options.quick ? " (quick)" : ""}; context ${contextSize}, parallel 1, temperature 0`,
  );

  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, log));
  const durationMs = systemTime.monotonicNow() - benchStart;

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
    settings: { ...settings, contextSize, parallel: 1, temperature: 0, scenarios },
    scenarios: results.map((result) => ({ ...result, summary: summarizeScenario(result) })),
  });
  console.log(`\nTotal ${(durationMs / 1000).toFixed(1)} s. Raw samples: ${path} (and results/latest.json)`);
}
