/**
 * `npm run bench:audit -- --suite serving [--quick] [--dir DIR]`: what the audit log costs a
 * request through the server (issue #11 targets: ≤ 1 ms p99 added, decode ≥ 0.99×).
 *
 * Blocks of streamed greedy completions on stories260K, each block on a fresh server in this
 * process with its home (and so its audit log) on the bench folder's disk, alternating audit on
 * and --no-audit (on, off, off, on, …) so neighbouring blocks pair up. Each block has two
 * phases: one client (latency per request: sent → end of stream, which with audit on includes
 * waiting for the request's record to be fsynced), then `concurrency` clients at once on as many
 * sequences (their records share group-commit batches). Decode tokens/s is measured at the
 * client ((completion tokens − 1) ÷ first → last content chunk).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { completionBody, startBenchServer, streamTiming, type StreamTiming } from "../lib/bench-server.js";
import { benchDirectory, prepareModel } from "../lib/models.js";
import { CompletionStreamClient } from "../lib/sse-client.js";
import { median, percentile } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

type Variant = "on" | "off";
type Phase = "sequential" | "concurrent";

export interface ServingOptions {
  quick: boolean;
  /** Folder the servers' homes go in (the audit log's disk). */
  dir: string;
}

interface Sample {
  totalMs: number;
  decodeTokensPerSecond: number;
}

interface BlockResult {
  block: number;
  variant: Variant;
  phase: Phase;
  samples: Sample[];
}

export interface ServingReport {
  settings: { blocks: number; requestsPerPhase: number; concurrency: number; maxTokens: number };
  blocks: BlockResult[];
  summary: Record<Phase, PhaseSummary>;
}

interface PhaseSummary {
  on: { p50Ms: number; p99Ms: number; decodeTokensPerSecond: number };
  off: { p50Ms: number; p99Ms: number; decodeTokensPerSecond: number };
  addedP50Ms: number;
  addedP99Ms: number;
  /** Median over neighbouring block pairs of on ÷ off median decode tokens/s. */
  pairedDecodeRatio: number;
}

const words = ["Once", "Lily", "The dog", "A little bird", "Tom", "One day", "The sun", "Ben"];

async function runClients(url: string, options: { clients: number; requests: number; maxTokens: number }) {
  const samples: Sample[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    const client = new CompletionStreamClient(url);
    try {
      while (next < options.requests) {
        const index = next++;
        const prompt = `${words[index % words.length]} ${index}`;
        const timing: StreamTiming = streamTiming(
          await client.stream(completionBody({ model: "stories260K", prompt, maxTokens: options.maxTokens })),
        );
        samples.push({ totalMs: timing.totalMs, decodeTokensPerSecond: timing.decodeTokensPerSecond });
      }
    } finally {
      client.close();
    }
  };
  await Promise.all(Array.from({ length: options.clients }, () => worker()));
  return samples;
}

async function runBlock(
  block: number,
  variant: Variant,
  settings: ServingReport["settings"] & { folder: string; modelsDir: string },
): Promise<BlockResult[]> {
  const home = await mkdtemp(join(settings.folder, `home-${variant}-`));
  const flags: Record<string, string> = {
    threads: "1",
    parallel: String(settings.concurrency),
    "context-size": "512",
    "no-metrics": "true",
  };
  if (variant === "off") flags["no-audit"] = "true";
  const server = await startBenchServer({ home, modelsDirectory: settings.modelsDir, flags });
  try {
    await runClients(server.url, { clients: 1, requests: 2, maxTokens: 16 });
    const sequential = await runClients(server.url, {
      clients: 1,
      requests: settings.requestsPerPhase,
      maxTokens: settings.maxTokens,
    });
    const concurrent = await runClients(server.url, {
      clients: settings.concurrency,
      requests: settings.requestsPerPhase,
      maxTokens: settings.maxTokens,
    });
    return [
      { block, variant, phase: "sequential", samples: sequential },
      { block, variant, phase: "concurrent", samples: concurrent },
    ];
  } finally {
    await server.close();
    await rm(home, { recursive: true, force: true });
  }
}

function summarizePhase(blocks: readonly BlockResult[], phase: Phase): PhaseSummary {
  const of = (variant: Variant) =>
    blocks.filter((block) => block.phase === phase && block.variant === variant);
  const totals = (variant: Variant) =>
    of(variant).flatMap((block) => block.samples.map((sample) => sample.totalMs));
  const rates = (variant: Variant) =>
    of(variant).flatMap((block) => block.samples.map((sample) => sample.decodeTokensPerSecond));
  const side = (variant: Variant) => ({
    p50Ms: percentile(totals(variant), 0.5),
    p99Ms: percentile(totals(variant), 0.99),
    decodeTokensPerSecond: median(rates(variant)),
  });
  const on = side("on");
  const off = side("off");
  const blockRate = (block: BlockResult) =>
    median(block.samples.map((sample) => sample.decodeTokensPerSecond));
  const offBlocks = of("off");
  const pairs = of("on").map((block, index) => blockRate(block) / blockRate(offBlocks[index]!));
  return {
    on,
    off,
    addedP50Ms: on.p50Ms - off.p50Ms,
    addedP99Ms: on.p99Ms - off.p99Ms,
    pairedDecodeRatio: median(pairs),
  };
}

/** Runs the A/B and prints its table; returns what goes into the JSON report. */
export async function runServingSuite(options: ServingOptions): Promise<ServingReport> {
  await prepareModel("stories");
  const settings = {
    blocks: options.quick ? 2 : 12,
    requestsPerPhase: options.quick ? 4 : 40,
    concurrency: 4,
    maxTokens: options.quick ? 32 : 128,
  };
  const folder = await mkdtemp(join(options.dir, ".audit-serving-"));
  const blocks: BlockResult[] = [];
  try {
    for (let block = 0; block < settings.blocks; block++) {
      const variant: Variant = [0, 3].includes(block % 4) ? "on" : "off";
      blocks.push(
        ...(await runBlock(block, variant, {
          ...settings,
          folder,
          modelsDir: join(benchDirectory, ".models"),
        })),
      );
      console.error(`  block ${block + 1}/${settings.blocks} audit ${variant}`);
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  const summary = {
    sequential: summarizePhase(blocks, "sequential"),
    concurrent: summarizePhase(blocks, "concurrent"),
  };
  const row = (phase: Phase): string[][] => {
    const { on, off, addedP50Ms, addedP99Ms, pairedDecodeRatio } = summary[phase];
    const clients = phase === "sequential" ? 1 : settings.concurrency;
    return [
      [
        `${phase} (${clients}) audit on`,
        formatNumber(on.p50Ms, 2),
        formatNumber(on.p99Ms, 2),
        formatNumber(on.decodeTokensPerSecond, 1),
        "",
      ],
      [
        `${phase} (${clients}) --no-audit`,
        formatNumber(off.p50Ms, 2),
        formatNumber(off.p99Ms, 2),
        formatNumber(off.decodeTokensPerSecond, 1),
        "",
      ],
      [
        `${phase} (${clients}) on − off`,
        formatNumber(addedP50Ms, 2),
        formatNumber(addedP99Ms, 2),
        "",
        formatNumber(pairedDecodeRatio, 4),
      ],
    ];
  };
  console.log(
    `Audit through the server: stories260K, ${settings.blocks} blocks × ${settings.requestsPerPhase} requests a phase, ` +
      `max_tokens ${settings.maxTokens}, homes on ${options.dir}`,
  );
  console.log(
    formatTable(
      ["PHASE (CLIENTS)", "P50 MS", "P99 MS", "DECODE TOK/S", "PAIRED ON÷OFF"],
      [...row("sequential"), ...row("concurrent")],
    ),
  );
  console.log("Targets: added p99 ≤ 1 ms; decode on ÷ off ≥ 0.99");
  return { settings, blocks, summary };
}
