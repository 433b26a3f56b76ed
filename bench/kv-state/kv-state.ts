/**
 * `npm run bench:kv-state -- [--model 134m|stories] [--reps 3] [--system-words 750] [--preemptions 4]`
 *
 * Saved KV state (docs/decisions/0022), through the real server (threads 1, parallel 1); 750 system
 * words are about 2,000 tokens of the synthetic 134M model. The measurements (kv-measure.ts, also
 * the peer benchmark's cache and resume rows):
 *   restart     TTFT of the first request on a long system prompt after a restart, with
 *               --prompt-cache and without. Target: cache ≥ 5× faster, identical greedy text.
 *   preemption  tokens evaluated again on resume after preemption. Target: 0, same greedy text.
 * Smoke run: `--model stories --system-words 60 --reps 1` (stories260K has a 512-token context).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, prepareModel, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { kvContextSize, measurePreemption, measureRestart } from "./kv-measure.js";

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

const startedAt = new Date(systemTime.wallNow());
const machine = await describeMachine();
const benchModel = await prepareModel(values.model as ModelKey);
const root = mkdtempSync(join(tmpdir(), "rawrxd-bench-kv-"));
const log = (line: string): void => void process.stderr.write(`${line}\n`);
log(
  `kv-state bench: ${benchModel.label}, ${machine.cpuModel}, ${machine.availableParallelism} cores; ${reps} reps, ${systemWords} system words, threads 1, parallel 1, context ${kvContextSize(benchModel)}`,
);
const plan = { model: benchModel, root, log };
const restart = await measureRestart({ ...plan, systemWords, reps });
const preemption = await measurePreemption({ ...plan, reps, preemptions });
rmSync(root, { recursive: true, force: true });

const restartRows = restart.rows;
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
console.log("");
console.log(
  `Prompt cache: ${formatNumber(restart.gain, 1)}× faster to first token after a restart (target ≥ 5×); identical greedy text ${restart.sameText}/${restartRows.length}.`,
);
console.log(
  `Preemption: ${preemption.preemptions} preemptions, ${preemption.reevaluatedTokens} tokens re-evaluated on resume (target 0); text unchanged ${preemption.sameText}/${preemption.rows.length}.`,
);
const jsonPath = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "kv-state", latest: "kv-state-latest.json", startedAt: startedAt.toISOString() },
  {
    startedAt: startedAt.toISOString(),
    model: benchModel.label,
    machine,
    options: values,
    cacheTtftMs: restart.cacheTtftMs,
    noneTtftMs: restart.noneTtftMs,
    restartRows,
    preemptionRows: preemption.rows,
    totalPreemptions: preemption.preemptions,
    totalReevaluated: preemption.reevaluatedTokens,
  },
);
console.log(`Raw samples: ${jsonPath} (and results/kv-state-latest.json)`);
