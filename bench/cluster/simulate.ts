/**
 * `npm run bench:cluster-sim [-- --quick] [-- --nodes 10,50,200] [-- --requests N] [-- --redis URL]
 * [-- --seed S] [-- --utilisation U]`: the cluster beyond one machine (issue #18 "Benchmark and
 * scale"). Real: the placement policies (src/cluster/placement.ts), BullMQ 6 queues per model
 * with job priorities, and redis-server (started here on a free loopback port unless --redis).
 * Simulated: the nodes (memory budget, residents, load and service times in virtual ms), see
 * sim-cluster.ts and docs/decisions/0036-model-affine-placement.md.
 *
 * Model-affine placement with one shared queue per model, against random placement as a proxy
 * in front of independent nodes would do it (each request bound to its node), on the same world
 * and requests: throughput
 * (virtual), queue wait p50/p95/p99 per priority (virtual ms), model loads and loads avoided,
 * and routing decisions per second of the placement function alone. Prints tables and writes
 * bench/results/cluster-sim-<time>.json and cluster-sim-latest.json.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { affinityPlacement, randomPlacement } from "../../src/cluster/index.js";
import { priorities, systemTime } from "../../src/core/index.js";
import { RedisTestServer } from "../../test/support/redis-server.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { percentile } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { runSimulation, type SimResult } from "./sim-cluster.js";
import { measureRouting, type RoutingResult } from "./sim-routing.js";
import { createWorld } from "./sim-world.js";

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${flag} ${text}: expected a positive number.`);
  return value;
}

function waitSummary(result: SimResult) {
  return Object.fromEntries(
    priorities.map((priority) => {
      const samples = result.waitMs[priority];
      return [
        priority,
        {
          count: samples.length,
          p50Ms: percentile(samples, 0.5),
          p95Ms: percentile(samples, 0.95),
          p99Ms: percentile(samples, 0.99),
        },
      ];
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      nodes: { type: "string" },
      requests: { type: "string" },
      redis: { type: "string" },
      seed: { type: "string", default: "18" },
      utilisation: { type: "string", default: "0.6" },
    },
    strict: true,
  });
  const nodeCounts = (values.nodes ?? (values.quick ? "10" : "10,50,200"))
    .split(",")
    .map((text) => Math.round(positiveNumber("nodes", text)));
  const requests = Math.round(positiveNumber("requests", values.requests ?? (values.quick ? "300" : "4000")));
  const seed = Math.round(positiveNumber("seed", values.seed));
  const utilisation = positiveNumber("utilisation", values.utilisation);
  const routingMs = values.quick ? 100 : 400;
  const startedAt = new Date(systemTime.wallNow()).toISOString();
  const machine = await describeMachine();
  const redis = values.redis === undefined ? await RedisTestServer.start({ appendOnly: false }) : undefined;
  const redisUrl = values.redis ?? redis!.url;
  const runs: (SimResult & { arrivalRatePerSecond: number })[] = [];
  const routing: RoutingResult[] = [];
  try {
    for (const nodes of nodeCounts) {
      const world = createWorld({ nodes, requests, seed, utilisation });
      const policies = [
        { name: "affinity", place: affinityPlacement, routing: "shared" as const },
        { name: "random", place: randomPlacement(seed), routing: "per-node" as const },
      ];
      for (const policy of policies) {
        const runId = `${startedAt.replaceAll(":", "")}-${nodes}-${policy.name}`;
        const result = await runSimulation(world, {
          policy: policy.place,
          policyName: policy.name,
          routing: policy.routing,
          redisUrl,
          runId,
        });
        runs.push({ ...result, arrivalRatePerSecond: world.arrivalRatePerSecond });
        console.error(`  ${nodes} nodes, ${policy.name}: ${result.wallSeconds.toFixed(1)} s wall`);
      }
      for (const policy of [
        { name: "affinity", place: affinityPlacement },
        { name: "random", place: randomPlacement(seed) },
      ])
        routing.push(measureRouting(world, policy, routingMs));
    }
  } finally {
    await redis?.dispose();
  }
  printTables(runs, routing, { requests, utilisation });
  const path = await writeResultFiles(
    join(benchDirectory, "results"),
    { prefix: "cluster-sim", latest: "cluster-sim-latest.json", startedAt },
    {
      startedAt,
      machine,
      loadAverage: loadavg(),
      settings: {
        nodeCounts,
        requests,
        seed,
        utilisation,
        redis: values.redis === undefined ? "started" : "given",
      },
      runs: runs.map(({ waitMs, ...rest }) => ({ ...rest, wait: waitSummary({ ...rest, waitMs }) })),
      routing,
    },
  );
  console.log(`\nResults: ${path} (and results/cluster-sim-latest.json)`);
}

function printTables(
  runs: (SimResult & { arrivalRatePerSecond: number })[],
  routing: RoutingResult[],
  settings: { requests: number; utilisation: number },
): void {
  console.log(
    `\nCluster simulation: ${settings.requests} requests per run, offered load ${settings.utilisation} of ` +
      "one busy model per node; times in virtual ms (real Redis + BullMQ, simulated nodes)",
  );
  console.log(
    formatTable(
      [
        "NODES",
        "MODELS",
        "POLICY",
        "DONE",
        "REFUSED",
        "LOADS",
        "EVICTIONS",
        "REQ/S",
        "WALL S",
        "BULLMQ CALLS/S",
      ],
      runs.map((run) => [
        String(run.nodes),
        String(run.models),
        run.policy,
        String(run.completed),
        String(run.rejected + run.stranded),
        String(run.loads),
        String(run.evictions),
        formatNumber(run.throughputPerSecond, 0),
        formatNumber(run.wallSeconds, 1),
        formatNumber(run.queueCallsPerWallSecond, 0),
      ]),
    ),
  );
  console.log("\nQueue wait (virtual ms) per priority");
  console.log(
    formatTable(
      ["NODES", "POLICY", "PRIORITY", "COUNT", "P50", "P95", "P99"],
      runs.flatMap((run) =>
        priorities.map((priority) => {
          const samples = run.waitMs[priority];
          return [
            String(run.nodes),
            run.policy,
            priority,
            String(samples.length),
            formatNumber(percentile(samples, 0.5), 1),
            formatNumber(percentile(samples, 0.95), 1),
            formatNumber(percentile(samples, 0.99), 1),
          ];
        }),
      ),
    ),
  );
  console.log("\nModel loads avoided by affinity (random − affinity)");
  const nodeCounts = [...new Set(runs.map((run) => run.nodes))];
  console.log(
    formatTable(
      ["NODES", "AFFINITY LOADS", "RANDOM LOADS", "AVOIDED", "AVOIDED %"],
      nodeCounts.map((nodes) => {
        const affinity = runs.find((run) => run.nodes === nodes && run.policy === "affinity")!;
        const random = runs.find((run) => run.nodes === nodes && run.policy === "random")!;
        const avoided = random.loads - affinity.loads;
        return [
          String(nodes),
          String(affinity.loads),
          String(random.loads),
          String(avoided),
          random.loads === 0 ? "–" : `${formatNumber((100 * avoided) / random.loads, 0)}%`,
        ];
      }),
    ),
  );
  console.log("\nRouting decisions per second (placement function alone, one core)");
  console.log(
    formatTable(
      ["NODES", "POLICY", "DECISIONS/S", "µS/DECISION"],
      routing.map((row) => [
        String(row.nodes),
        row.policy,
        formatNumber(row.decisionsPerSecond, 0),
        formatNumber(row.microsecondsPerDecision, 1),
      ]),
    ),
  );
}

await main();
