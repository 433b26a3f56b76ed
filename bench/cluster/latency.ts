/**
 * `npm run bench:cluster-latency [-- --quick]`: what the cluster adds to a request (issue #18
 * targets: ≤ 3 ms p50 added TTFT through a non-owning node; one-node cluster decode ≥ 0.97× of
 * standalone), on stories260K with the real engine and a real redis-server on loopback.
 *
 * 1. TTFT: two cluster nodes in this process; node a holds the model, node b does not. Greedy
 *    streamed completions alternate a, b, a, b …; TTFT = sent → first chunk with text. Through b
 *    the request is admitted into Redis, claimed by a's worker and pulled node to node.
 * 2. Decode: a standalone server and a one-node cluster, alternating blocks, decode tokens/s at
 *    the client ((completion tokens − 1) ÷ first → last chunk).
 *
 * Both nodes share this process's event loop (and the machine's cores): on separate machines the
 * node-to-node hop adds the network round trip instead. Prints tables and writes
 * bench/results/cluster-latency-<time>.json and cluster-latency-latest.json.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { RunningServer } from "../../src/app/index.js";
import { systemTime } from "../../src/core/index.js";
import { RedisTestServer } from "../../test/support/redis-server.js";
import { completionBody, startBenchServer, streamTiming } from "../lib/bench-server.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, modelsDirectory, prepareModel } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { median, percentile } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const quick = values.quick === true;
const ttftRequests = quick ? 10 : 200;
const decodeBlocks = quick ? 2 : 6;
const decodeRequests = quick ? 2 : 8;
const decodeTokens = quick ? 32 : 128;
const model = "stories260K";
const flags = { threads: "1", parallel: "1", "context-size": "512", "no-metrics": "true", "no-sla": "true" };

async function startNode(home: string, extra: Record<string, string>): Promise<RunningServer> {
  return startBenchServer({ home, modelsDirectory, flags: { ...flags, "no-backup": "true", ...extra } });
}

async function timeToFirstToken(url: string, index: number): Promise<number> {
  const client = new CompletionStreamClient(url);
  try {
    const streamed = await client.stream(completionBody({ model, prompt: `Once ${index}`, maxTokens: 4 }));
    return streamTiming(streamed).timeToFirstTokenMs;
  } finally {
    client.close();
  }
}

async function decodeRate(url: string): Promise<number[]> {
  const client = new CompletionStreamClient(url);
  const rates: number[] = [];
  try {
    for (let index = 0; index < decodeRequests; index++) {
      const streamed = await client.stream(
        completionBody({ model, prompt: `The dog ${index}`, maxTokens: decodeTokens }),
      );
      rates.push(streamTiming(streamed).decodeTokensPerSecond);
    }
  } finally {
    client.close();
  }
  return rates;
}

const stat = (samples: number[]) => ({
  p50: percentile(samples, 0.5),
  p95: percentile(samples, 0.95),
  samples: samples.length,
});

async function main(): Promise<void> {
  const startedAt = new Date(systemTime.wallNow()).toISOString();
  await prepareModel("stories");
  const folder = await mkdtemp(join(tmpdir(), "rawrxd-bench-cluster-"));
  const redis = await RedisTestServer.start({ appendOnly: false });
  const servers: RunningServer[] = [];
  try {
    const cluster = (id: string) => ({ cluster: redis.url, "node-id": id, "keep-alive": "-1" });
    const owner = await startNode(await mkdtemp(join(folder, "a-")), cluster("a"));
    const other = await startNode(await mkdtemp(join(folder, "b-")), cluster("b"));
    servers.push(owner, other);
    await timeToFirstToken(owner.url, -1); // loads the model on node a
    await systemTime.sleep(2500); // node b reads a's advert
    const viaOwner: number[] = [];
    const viaOther: number[] = [];
    for (let index = 0; index < ttftRequests; index++) {
      viaOwner.push(await timeToFirstToken(owner.url, index));
      viaOther.push(await timeToFirstToken(other.url, index));
    }
    await Promise.all(servers.splice(0).map((server) => server.close()));

    const standaloneRates: number[] = [];
    const clusterRates: number[] = [];
    for (let block = 0; block < decodeBlocks; block++) {
      const isCluster = block % 2 === 1;
      const node = await startNode(
        await mkdtemp(join(folder, `d${block}-`)),
        isCluster ? cluster(`solo-${block}`) : {},
      );
      servers.push(node);
      await decodeRate(node.url);
      (isCluster ? clusterRates : standaloneRates).push(median(await decodeRate(node.url)));
      await servers.pop()?.close();
    }
    const report = {
      startedAt,
      machine: await describeMachine(),
      settings: { quick, ttftRequests, decodeBlocks, decodeRequests, decodeTokens, flags },
      ttftMs: {
        owner: stat(viaOwner),
        nonOwner: stat(viaOther),
        addedP50: percentile(viaOther, 0.5) - percentile(viaOwner, 0.5),
        addedP95: percentile(viaOther, 0.95) - percentile(viaOwner, 0.95),
      },
      decodeTokensPerSecond: {
        standalone: median(standaloneRates),
        oneNodeCluster: median(clusterRates),
        ratio: median(clusterRates) / median(standaloneRates),
      },
    };
    console.log(
      formatTable(
        ["TTFT (ms)", "p50", "p95", "n"],
        [
          [
            "owning node",
            formatNumber(report.ttftMs.owner.p50, 2),
            formatNumber(report.ttftMs.owner.p95, 2),
            String(ttftRequests),
          ],
          [
            "non-owning node",
            formatNumber(report.ttftMs.nonOwner.p50, 2),
            formatNumber(report.ttftMs.nonOwner.p95, 2),
            String(ttftRequests),
          ],
          ["added", formatNumber(report.ttftMs.addedP50, 2), formatNumber(report.ttftMs.addedP95, 2), ""],
        ],
      ),
    );
    console.log(
      formatTable(
        ["decode (tokens/s)", "median"],
        [
          ["standalone", formatNumber(report.decodeTokensPerSecond.standalone, 1)],
          ["one-node cluster", formatNumber(report.decodeTokensPerSecond.oneNodeCluster, 1)],
          ["ratio", formatNumber(report.decodeTokensPerSecond.ratio, 3)],
        ],
      ),
    );
    const path = await writeResultFiles(
      join(benchDirectory, "results"),
      { prefix: "cluster-latency", latest: "cluster-latency-latest.json", startedAt },
      report,
    );
    console.log(`Results: ${path}`);
  } finally {
    for (const server of servers) await server.close().catch(() => undefined);
    await redis.dispose();
    await rm(folder, { recursive: true, force: true });
  }
}

await main();
