/**
 * `npm run bench:other-binding -- [--models stories,134m] [--rounds 3] [--tokens 256]`
 *
 * Issue #17 names "another binding, if one is faster end to end" as a lever for what the pinned
 * prebuilt node-llama-cpp binary leaves on the table (ADR 0063: a helper thread started and joined
 * on every llama_decode). This puts the one other maintained Node binding of llama.cpp with
 * prebuilt npm binaries, @fugood/llama.node, beside node-llama-cpp used directly: one greedy
 * stream, 1 and 2 threads, interleaved rounds, each block a process of its own
 * (other-binding-probe.ts). @fugood/llama.node runs its whole token loop in native code and its
 * CPU binary links OpenMP, which keeps its threads between decodes.
 *
 * It installs @fugood/llama.node and its linux-x64 binary from the npm registry into the
 * git-ignored bench/.other-binding once (22 MB; not a dependency of RawrXD), and counts the AVX
 * instructions (ymm/zmm registers) in each engine's CPU code (for node-llama-cpp, the per-CPU
 * variant the probe loaded) with `objdump` where binutils is installed. Prints a table, writes
 * bench/results/other-binding-*.json.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { systemTime } from "../../src/core/index.js";
import { benchDirectory, prepareModel } from "../lib/models.js";
import { integerArgument, modelsArgument } from "../lib/arguments.js";
import { writeResultFiles } from "../lib/results.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const version = "1.7.15";
const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories,134m" },
    rounds: { type: "string", default: "3" },
    tokens: { type: "string", default: "256" },
  },
});
const models = modelsArgument(values.models);
const rounds = integerArgument("rounds", values.rounds, 1);
const tokens = integerArgument("tokens", values.tokens, 2);
const run = promisify(execFile);

const install = join(benchDirectory, ".other-binding");
const llamaNodeBinary = join(install, "node_modules", "@fugood", "node-llama-linux-x64", "index.node");
if (process.platform !== "linux" || process.arch !== "x64")
  throw new Error("bench:other-binding installs @fugood/llama.node's linux-x64 binary: run it on Linux x64.");
if (!existsSync(llamaNodeBinary)) {
  process.stderr.write(`installing @fugood/llama.node@${version} into ${install} (npm registry)\n`);
  // Only the CPU binary: its CUDA and Vulkan packages are optional dependencies (~270 MB).
  await run(
    "npm",
    ["install", "--prefix", install, "--omit=optional", "--no-audit", "--no-fund",
      `@fugood/llama.node@${version}`, `@fugood/node-llama-linux-x64@${version}`], // prettier-ignore
    { maxBuffer: 16 * 1024 * 1024 },
  );
}

/** AVX instructions (those naming a ymm or zmm register) in a binary, or undefined without objdump. */
async function avxInstructions(file: string): Promise<number | undefined> {
  try {
    const { stdout } = await run("objdump", ["-d", "--no-show-raw-insn", file], {
      maxBuffer: 1024 * 1024 * 1024,
    });
    return stdout.split("\n").filter((line) => /%[yz]mm\d/.test(line)).length;
  } catch {
    return undefined;
  }
}

interface Variant {
  engine: "node-llama-cpp" | "llama.node";
  threads: number;
}
const variants: Variant[] = [
  { engine: "node-llama-cpp", threads: 1 },
  { engine: "node-llama-cpp", threads: 2 },
  { engine: "llama.node", threads: 1 },
  { engine: "llama.node", threads: 2 },
];
const keyOf = (variant: Variant): string => `${variant.engine} ${variant.threads}T`;

interface BlockResult {
  tokens: number;
  decodeTokensPerSecond: number;
  cpuBackend?: string;
}

async function runBlock(modelPath: string, variant: Variant): Promise<BlockResult> {
  const probe = join(benchDirectory, "engine", "other-binding-probe.ts");
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", probe, "--engine", variant.engine, "--model", modelPath,
      "--threads", String(variant.threads), "--tokens", String(tokens), "--install", install], // prettier-ignore
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as BlockResult;
}

const startedAt = new Date(systemTime.wallNow()).toISOString();
const report: Record<string, Record<string, number[]>> = {};
const rows: string[][] = [];
let nodeLlamaCppBackend: string | undefined;
for (const key of models) {
  const model = await prepareModel(key);
  const blocks: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++)
    for (let index = 0; index < variants.length; index++) {
      const variant = variants[(index + round) % variants.length]!;
      const result = await runBlock(model.path, variant);
      (blocks[keyOf(variant)] ??= []).push(result.decodeTokensPerSecond);
      if (variant.engine === "node-llama-cpp") nodeLlamaCppBackend ??= result.cpuBackend;
      process.stderr.write(
        `${model.label} round ${round + 1} ${keyOf(variant)}: ${result.decodeTokensPerSecond.toFixed(1)} tok/s\n`,
      );
    }
  report[model.label] = blocks;
  for (const variant of variants) {
    const rates = blocks[keyOf(variant)]!;
    // Paired by round: each ratio is taken within one round, then the median of those.
    const ratio = (other: Variant): string =>
      formatNumber(median(rates.map((rate, round) => rate / blocks[keyOf(other)]![round]!)), 2) + "×";
    rows.push([
      model.label,
      keyOf(variant),
      formatNumber(median(rates), 1),
      ratio({ engine: "node-llama-cpp", threads: variant.threads }),
      ratio({ engine: variant.engine, threads: 1 }),
    ]);
  }
}

const llamaNodeAvx = await avxInstructions(llamaNodeBinary);
const nodeLlamaCppAvx =
  nodeLlamaCppBackend === undefined ? undefined : await avxInstructions(nodeLlamaCppBackend);
const backendName = nodeLlamaCppBackend?.split("/").at(-1) ?? "(not found)";
console.log(
  formatTable(
    ["model", "engine, threads", "decode tok/s", "÷ node-llama-cpp, same threads", "÷ same engine 1T"],
    rows,
  ),
);
console.log(
  `\nAVX instructions (ymm/zmm) in the CPU code: @fugood/node-llama-linux-x64 ${llamaNodeAvx ?? "(no objdump)"}; node-llama-cpp's ${backendName} (the variant it loaded here) ${nodeLlamaCppAvx ?? "(no objdump)"}`,
);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "other-binding", latest: "other-binding-latest.json", startedAt },
  {
    startedAt,
    tokens,
    rounds,
    version,
    report,
    cpuBackend: backendName,
    avxInstructions: { llamaNode: llamaNodeAvx, nodeLlamaCpp: nodeLlamaCppAvx },
  },
);
console.log(`\nWrote ${path}`);
