/**
 * `npm run bench:audit [-- --quick] [-- --dir DIR] [-- --suite append|serving|all]`: audit
 * records per second with fsync group commit (issue #11 target ≥ 20,000/s), at several
 * concurrency levels (suite `append`); and audit on vs --no-audit through the server (suite
 * `serving`, audit-serving.ts). Default: both.
 *
 * Concurrency C = C closed-loop writers, each awaiting its `record()` (= its record is on disk)
 * before the next: what C requests in flight cost. Each level runs three times on a fresh log;
 * the table gives the median run. The log lives on the bench folder's disk (not tmpfs, where
 * fsync is free) unless --dir says otherwise.
 *
 * Prints tables and writes bench/results/audit-<time>.json and audit-latest.json.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { AuditLog, generateSigningKey, verifyAuditLog } from "../../src/ops/index.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { runServingSuite, type ServingReport } from "./audit-serving.js";
import { median, percentile } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const concurrencyLevels = [1, 16, 64, 256, 1024];

interface Run {
  concurrency: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  batches: number;
  recordsPerBatch: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

async function measure(folder: string, concurrency: number, records: number): Promise<Run> {
  const key = generateSigningKey();
  const directory = await mkdtemp(join(folder, "log-"));
  const log = await AuditLog.open({
    directory,
    signingKey: key,
    nodeId: "bench",
    checkpointEveryRecords: 1000,
  });
  const latenciesMs: number[] = [];
  let issued = 0;
  const writer = async (): Promise<void> => {
    while (issued < records) {
      issued += 1;
      const startedMs = systemTime.monotonicNow();
      await log.record({
        type: "inference",
        action: "generate",
        object: "stories260K",
        keyId: "rxd_bench01",
        address: "127.0.0.1",
        requestId: `bench-${issued}`,
        details: { promptTokens: 42, outputTokens: 128, priority: "normal", promptSha256: "a".repeat(64) },
      });
      latenciesMs.push(systemTime.monotonicNow() - startedMs);
    }
  };
  const startedMs = systemTime.monotonicNow();
  await Promise.all(Array.from({ length: concurrency }, () => writer()));
  const seconds = (systemTime.monotonicNow() - startedMs) / 1000;
  const batches = log.batchesWritten;
  await log.close();
  const report = await verifyAuditLog({ directory, publicKey: key.publicKey });
  if (!report.intact || report.records !== records)
    throw new Error(`benchmark log failed verification: ${JSON.stringify(report.findings.slice(0, 3))}`);
  await rm(directory, { recursive: true, force: true });
  return {
    concurrency,
    records,
    seconds,
    recordsPerSecond: records / seconds,
    batches,
    recordsPerBatch: records / batches,
    latencyP50Ms: percentile(latenciesMs, 0.5),
    latencyP99Ms: percentile(latenciesMs, 0.99),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      dir: { type: "string" },
      suite: { type: "string", default: "all" },
    },
    strict: true,
  });
  const suite = values.suite;
  if (suite !== "append" && suite !== "serving" && suite !== "all")
    throw new Error(`--suite ${suite}: expected append, serving or all.`);
  const startedAt = new Date(systemTime.wallNow()).toISOString();
  const machine = await describeMachine();
  const runs: Run[] = [];
  if (suite !== "serving") await runAppendSuite({ quick: values.quick, dir: values.dir, runs });
  let serving: ServingReport | undefined;
  if (suite !== "append")
    serving = await runServingSuite({ quick: values.quick, dir: values.dir ?? benchDirectory });
  const path = await writeResultFiles(
    join(benchDirectory, "results"),
    { prefix: "audit", latest: "audit-latest.json", startedAt },
    { startedAt, machine, loadAverage: loadavg(), suite, runs, serving },
  );
  console.log(`Raw samples: ${path} (and results/audit-latest.json)`);
}

async function runAppendSuite(options: {
  quick: boolean;
  dir: string | undefined;
  runs: Run[];
}): Promise<void> {
  const { runs } = options;
  const folder = await mkdtemp(join(options.dir ?? benchDirectory, ".audit-bench-"));
  const rows: string[][] = [];
  try {
    for (const concurrency of concurrencyLevels) {
      const records = options.quick ? Math.max(500, concurrency * 10) : Math.max(2000, concurrency * 40);
      const repeats: Run[] = [];
      for (let repeat = 0; repeat < 3; repeat += 1) repeats.push(await measure(folder, concurrency, records));
      runs.push(...repeats);
      const middle = [...repeats].sort((a, b) => a.recordsPerSecond - b.recordsPerSecond)[1]!;
      rows.push([
        String(concurrency),
        String(records),
        formatNumber(middle.recordsPerSecond, 0),
        formatNumber(middle.recordsPerBatch, 1),
        formatNumber(middle.latencyP50Ms, 2),
        formatNumber(middle.latencyP99Ms, 2),
      ]);
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  console.log(
    `Audit append with fsync group commit (median of 3 runs; log on ${options.dir ?? benchDirectory})`,
  );
  console.log(
    formatTable(["CONCURRENCY", "RECORDS", "RECORDS/S", "RECORDS/FSYNC", "P50 MS", "P99 MS"], rows),
  );
  const medians = concurrencyLevels.map((concurrency) => ({
    concurrency,
    recordsPerSecond: median(
      runs.filter((run) => run.concurrency === concurrency).map((run) => run.recordsPerSecond),
    ),
  }));
  const best = medians.reduce((top, level) => (level.recordsPerSecond > top.recordsPerSecond ? level : top));
  console.log(
    `Target ≥ 20,000 records/s: best median ${formatNumber(best.recordsPerSecond, 0)} at concurrency ${best.concurrency}`,
  );
}

await main();
