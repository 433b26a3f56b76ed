/**
 * `npm run bench:load -- [--clients 200] [--duration 120s] [--max-queue 64] [--model 134m|stories]
 *   [--soak] [--quick] [--threads N] [--parallel N] [--max-tokens 16-96] [--hang-timeout 180s]
 *   [--sample-interval 5s] [--seed 1] [--serve-args "--metrics-request-log 1000 …"]`
 *
 * Issue #15 §3: a bounded, self-stopping load on loopback against a real `rawrxd serve` child
 * process with audit on. --soak runs 30 minutes (release checks); --quick is a smoke run
 * (30 clients, 15 s, --max-queue 8, stories260K). Prints a table and writes
 * bench/results/load-<time>.json and load-latest.json; exits 1 when a property does not hold.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseDurationMs } from "../../src/config/index.js";
import { systemTime } from "../../src/core/index.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory, modelKeys, type ModelKey } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { runLoad, type LoadOptions } from "./load-generator.js";
import { formatLoadReport, summarizeLoad } from "./load-report.js";
import { violationKinds } from "./load-request.js";

const { values } = parseArgs({
  options: {
    clients: { type: "string" },
    duration: { type: "string" },
    "max-queue": { type: "string" },
    model: { type: "string" },
    soak: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    threads: { type: "string" },
    parallel: { type: "string" },
    "max-tokens": { type: "string" },
    "hang-timeout": { type: "string" },
    "sample-interval": { type: "string" },
    "serve-args": { type: "string" },
    seed: { type: "string", default: "1" },
  },
});

function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a whole number ≥ 1, got "${raw}".`);
  return value;
}

function tokenRange(raw: string): { min: number; max: number } {
  const match = /^(\d+)(?:-(\d+))?$/.exec(raw);
  if (match === null) throw new Error(`--max-tokens takes N or MIN-MAX (16-96), got "${raw}".`);
  const min = Number(match[1]);
  const max = Number(match[2] ?? match[1]);
  if (min < 1 || max < min) throw new Error(`--max-tokens: need 1 ≤ MIN ≤ MAX, got "${raw}".`);
  return { min, max };
}

const quick = values.quick;
const model = (values.model ?? (quick ? "stories" : "134m")) as ModelKey;
if (!modelKeys.includes(model))
  throw new Error(`--model must be one of ${modelKeys.join(", ")}, got "${model}".`);
const durationMs = parseDurationMs(values.duration ?? (values.soak ? "30m" : quick ? "15s" : "120s"));
const serverFlags = [
  ...(values.threads === undefined ? [] : ["--threads", values.threads]),
  ...(values.parallel === undefined ? [] : ["--parallel", values.parallel]),
  ...(values["serve-args"]?.split(/\s+/).filter((arg) => arg.length > 0) ?? []),
];
const options: LoadOptions = {
  model,
  clients: positiveInteger("clients", values.clients ?? (quick ? "30" : "200")),
  durationMs,
  maxQueue: positiveInteger("max-queue", values["max-queue"] ?? (quick ? "8" : "64")),
  mix: { abort: 0.1, delete: 0.1, disconnect: 0.05 },
  maxTokens: tokenRange(values["max-tokens"] ?? "16-96"),
  hangTimeoutMs: parseDurationMs(values["hang-timeout"] ?? (quick ? "60s" : "180s")),
  sampleIntervalMs: parseDurationMs(values["sample-interval"] ?? (quick ? "1s" : "5s")),
  seed: positiveInteger("seed", values.seed),
  serverFlags,
  log: (line) => process.stderr.write(`${line}\n`),
};

const startedAt = new Date(systemTime.wallNow()).toISOString();
const machine = await describeMachine();
const run = await runLoad(options);
const summary = summarizeLoad(run);
console.log(formatLoadReport(run, summary));
const { outcomes, ...rest } = run;
const path = await writeResultFiles(
  join(benchDirectory, "results"),
  { prefix: "load", latest: "load-latest.json", startedAt },
  {
    startedAt,
    kind: quick ? "smoke" : values.soak ? "soak" : "load",
    machine,
    summary,
    ...rest,
    // Every request would make a soak's file huge: the violations only.
    violations: outcomes.filter((outcome) => violationKinds.includes(outcome.kind)),
  },
);
console.log(`\nwrote ${path}`);
const holds = Object.values(summary.properties).every(Boolean);
process.exitCode = holds ? 0 : 1;
