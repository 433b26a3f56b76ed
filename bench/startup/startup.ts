/**
 * `npm run bench:startup -- [--rounds 4] [--baseline DIR]`
 *
 * What running the compiled server saves (ADR 0060): the same checkout run by `bin/rawrxd.js`
 * from its build (`dist/`, brought up to date first) and from the source through tsx
 * (`RAWRXD_FROM_SOURCE=1`), alternating, one fresh process and data folder per measurement:
 * `rawrxd --version`, `rawrxd serve` until /health answers, the first
 * request on that server (it loads the demo model, stories260K, in a new runner), and the
 * resident memory of the server and of its runner after it.
 * `--baseline DIR` adds another checkout's bin/rawrxd.js as it runs there (its build, if current),
 * say main before a change. Prints a table of medians and writes bench/results/startup-<time>.json and startup-latest.json.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nodeFlags, systemTime } from "../../src/core/index.js";
import { childrenOf } from "../engine/process-counters.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { cleanEnvironment, ensureServerBuild, rawrxdBin, residentBytes } from "../lib/server-process.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "4" }, baseline: { type: "string" } },
});
const rounds = Number(values.rounds);
const startedAt = new Date(systemTime.wallNow()).toISOString();
type Variant = "compiled" | "source" | "baseline";
const variants: Variant[] =
  values.baseline === undefined ? ["compiled", "source"] : ["compiled", "source", "baseline"];
const binOf = (variant: Variant): string =>
  variant === "baseline" ? join(values.baseline!, "bin", "rawrxd.js") : rawrxdBin;

interface Sample {
  versionMs: number;
  listeningMs: number;
  firstRequestMs: number;
  serverRssMiB: number;
  runnerRssMiB: number;
}

const environment = (variant: Variant): NodeJS.ProcessEnv => ({
  ...cleanEnvironment(),
  ...(variant === "source" ? { RAWRXD_FROM_SOURCE: "1" } : {}),
});

const residentMiB = async (pid: number): Promise<number> => (await residentBytes(pid)) / 1024 / 1024;

function versionWallMs(variant: Variant): number {
  const started = systemTime.monotonicNow();
  execFileSync(process.execPath, [...nodeFlags, binOf(variant), "--version"], {
    env: environment(variant),
    stdio: "ignore",
  });
  return systemTime.monotonicNow() - started;
}

async function serveRun(variant: Variant): Promise<Omit<Sample, "versionMs">> {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-startup-"));
  const started = systemTime.monotonicNow();
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      binOf(variant),
      "serve",
      "--home",
      home,
      "--port",
      "0",
      "--threads",
      "1",
      "--log-level",
      "error",
    ],
    { env: environment(variant), stdio: ["ignore", "ignore", "pipe"] },
  );
  try {
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let url: string | undefined;
    while (url === undefined) {
      if (child.exitCode !== null) throw new Error(`rawrxd serve (${variant}) exited: ${stderr}`);
      url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
      if (url === undefined) await systemTime.sleep(5);
    }
    while (
      !(await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      ))
    )
      await systemTime.sleep(5);
    const listeningMs = systemTime.monotonicNow() - started;
    const requestStarted = systemTime.monotonicNow();
    const response = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "stories260K", prompt: "Once", max_tokens: 1 }),
    });
    await response.text();
    if (!response.ok) throw new Error(`rawrxd serve (${variant}) answered ${response.status}`);
    const firstRequestMs = systemTime.monotonicNow() - requestStarted;
    const [runner] = await childrenOf(child.pid!);
    return {
      listeningMs,
      firstRequestMs,
      serverRssMiB: await residentMiB(child.pid!),
      runnerRssMiB: runner === undefined ? Number.NaN : await residentMiB(runner),
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    rmSync(home, { recursive: true, force: true });
  }
}

ensureServerBuild();
const machine = await describeMachine();
const samples: Record<Variant, Sample[]> = { compiled: [], source: [], baseline: [] };
for (let round = 0; round < rounds; round++) {
  for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
    const sample = { versionMs: versionWallMs(variant), ...(await serveRun(variant)) };
    samples[variant].push(sample);
    console.error(
      `  round ${round} ${variant}: --version ${sample.versionMs.toFixed(0)} ms, listening ${sample.listeningMs.toFixed(0)} ms, first request ${sample.firstRequestMs.toFixed(0)} ms, server ${sample.serverRssMiB.toFixed(0)} MiB, runner ${sample.runnerRssMiB.toFixed(0)} MiB`,
    );
  }
}

const measures: { key: keyof Sample; label: string; digits: number }[] = [
  { key: "versionMs", label: "rawrxd --version, ms", digits: 0 },
  { key: "listeningMs", label: "rawrxd serve until /health answers, ms", digits: 0 },
  { key: "firstRequestMs", label: "first request (loads stories260K), ms", digits: 0 },
  { key: "serverRssMiB", label: "server resident memory, MiB", digits: 0 },
  { key: "runnerRssMiB", label: "runner resident memory, MiB", digits: 0 },
];
const medians = (variant: Variant, key: keyof Sample): number =>
  median(samples[variant].map((sample) => sample[key]));
const hasBaseline = variants.includes("baseline");
console.log(
  formatTable(
    [
      "measure (median)",
      "compiled (dist/)",
      "source (tsx)",
      "compiled ÷ source",
      ...(hasBaseline ? ["baseline", "compiled ÷ baseline"] : []),
    ],
    measures.map(({ key, label, digits }) => [
      label,
      formatNumber(medians("compiled", key), digits),
      formatNumber(medians("source", key), digits),
      `${formatNumber(medians("compiled", key) / medians("source", key), 2)}×`,
      ...(hasBaseline
        ? [
            formatNumber(medians("baseline", key), digits),
            `${formatNumber(medians("compiled", key) / medians("baseline", key), 2)}×`,
          ]
        : []),
    ]),
  ),
);
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "startup", latest: "startup-latest.json", startedAt },
  { startedAt, machine, rounds, baseline: values.baseline ?? null, samples },
);
console.error(`Wrote ${path}`);
