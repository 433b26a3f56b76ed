/**
 * The queue suite (`npm run bench -- --suite queue [--quick]`): the scheduler of issue #4 on the
 * real engine (runner processes), measured by clients of its HTTP API on 127.0.0.1 and joined
 * with the scheduler's own events by X-Request-Id.
 *
 * 1. Mixed load (bench/queue/mixed.ts). Two models, two names for the synthetic 134M q8_0 file:
 *    the same cost per token, so both queues saturate alike and the two runners, 1 thread each,
 *    fill the 2 vCPUs between them (stories260K would finish each request in ~50 ms and leave
 *    its queue nearly empty). --parallel 2 per model; six closed-loop clients per model keep
 *    both sequences busy and four requests waiting; each request is the next of its model's
 *    seeded list (70 % low, 25 % normal, 5 % high via X-Priority, max_tokens 32, streamed).
 *    `--queue-policy priority` (preemption on) against `--queue-policy fifo` (preemption off),
 *    the same lists for both, windows in the order priority, fifo, fifo, priority; then one
 *    window with both servers loaded at once, for a throughput ratio that the other work on a
 *    shared machine cannot tilt (both get the same moments of the CPU).
 * 2. Concurrency (bench/queue/streams.ts). --parallel 4, 1 stream vs 4 concurrent streams.
 *
 * Prints two tables and the verdicts; writes results/queue-<time>.json and queue-latest.json.
 */
import { copyFile, link, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, modelsDirectory, prepareModel } from "../lib/models.js";
import { runMixedLoad } from "./mixed.js";
import { renderQueueNotes, renderQueueTables, summarizeQueueSuite, writeQueueReport } from "./report.js";
import { queueSettings } from "./settings.js";
import { runStreams } from "./streams.js";
import { systemTime } from "../../src/core/index.js";

export interface QueueSuiteOptions {
  quick: boolean;
  log: (line: string) => void;
}

export async function runQueueSuite(options: QueueSuiteOptions): Promise<void> {
  const { log } = options;
  const startedAt = new Date(systemTime.wallNow());
  const suiteStart = systemTime.monotonicNow();
  const machine = await describeMachine();
  const modelsDir = await prepareQueueModels();
  const home = join(modelsDirectory, "home");
  const windowMs = options.quick ? queueSettings.mixed.quickWindowMs : queueSettings.mixed.windowMs;
  const pairedWindowMs = options.quick
    ? queueSettings.mixed.quickPairedWindowMs
    : queueSettings.mixed.pairedWindowMs;
  const { mixed, concurrency } = queueSettings;
  log(
    `Queue suite: ${machine.cpuModel}, ${machine.availableParallelism} cores, load ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(" ")}; ` +
      `${queueSettings.modelFile} as ${queueSettings.mixedModels.join(" + ")}, threads ${queueSettings.threads}, context ${queueSettings.contextSize}/sequence, temperature 0`,
  );
  log(
    `  mixed: --parallel ${mixed.parallel}, ${mixed.clientsPerModel} closed-loop clients per model, max_tokens ${mixed.maxTokens}, ${mixed.order.length} windows of ${windowMs / 1000} s + ${pairedWindowMs / 1000} s of both at once; ` +
      `concurrency: --parallel ${concurrency.parallel}, max_tokens ${concurrency.maxTokens}`,
  );

  const mixedRuns = await runMixedLoad({ modelsDir, home, windowMs, pairedWindowMs, log });
  const blocks = await runStreams({ modelsDir, home, log });
  const durationMs = systemTime.monotonicNow() - suiteStart;
  const summary = summarizeQueueSuite(mixedRuns, blocks, mixed.parallel);

  console.log("");
  console.log(renderQueueTables(summary));
  console.log("");
  console.log(renderQueueNotes(summary));
  const path = await writeQueueReport(join(benchDirectory, "results"), {
    startedAt: startedAt.toISOString(),
    durationMs,
    machine,
    settings: { ...queueSettings, quick: options.quick, windowMs, pairedWindowMs },
    summary,
    mixedRuns,
    concurrencyBlocks: blocks,
  });
  console.log(
    `\nQueue suite ${(durationMs / 1000).toFixed(1)} s. Raw samples: ${path} (and results/queue-latest.json)`,
  );
}

/** bench/.models/queue/ with the two model names: hard links to the synthetic 134M file (copies where links fail). */
async function prepareQueueModels(): Promise<string> {
  const source = await prepareModel("134m");
  const folder = join(modelsDirectory, "queue");
  await mkdir(folder, { recursive: true });
  const sourceSize = (await stat(source.path)).size;
  for (const name of queueSettings.mixedModels) {
    const target = join(folder, `${name}.gguf`);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size === sourceSize) continue;
    await link(source.path, target).catch(() => copyFile(source.path, target));
  }
  return folder;
}
