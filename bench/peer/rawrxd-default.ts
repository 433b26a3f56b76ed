/**
 * `rawrxd-default`: RawrXD exactly as a new user runs it (no --threads: `auto`). One fresh
 * RAWRXD_HOME per run: the first block of each model loads it with nothing cached, so the runner
 * calibrates (on 2 cores: served single-stream generations take turns on 1 and 2 decode threads,
 * ADR 0032) and caches the choice in $RAWRXD_HOME/cache/threads.json; the block's warm-up sends
 * single-stream requests until the cache shows the served choice (or a cap), and the later
 * rounds start from the cached choice, as a user's next start would.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { PeerEngine } from "./peer-engines.js";

const homes = new Map<string, string>();

/**
 * The run's RAWRXD_HOME for a default variant (made on first use): one per variant, so the
 * prebuilt binary's and the local build's defaults each calibrate from nothing.
 */
export function defaultHome(variant: string): string {
  let home = homes.get(variant);
  if (home === undefined) {
    home = mkdtempSync(join(tmpdir(), "rawrxd-peer-default-"));
    homes.set(variant, home);
  }
  return home;
}

export function removeDefaultHomes(): void {
  for (const home of homes.values()) rmSync(home, { recursive: true, force: true });
  homes.clear();
}

interface CachedChoice {
  threads: number;
  batchThreads: number;
  source: string;
  detail?: string;
  samples?: { threads: number; tokensPerSecond: number }[];
}

/** The cached thread choice for a model file, if the runner wrote one. */
export async function cachedChoice(home: string, modelPath: string): Promise<CachedChoice | undefined> {
  const path = join(home, "cache", "threads.json");
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const entries = (JSON.parse(text) as { entries?: Record<string, { choice: CachedChoice }> }).entries ?? {};
  const name = basename(modelPath);
  return Object.entries(entries).find(([key]) => key.includes(name))?.[1].choice;
}

/**
 * The most warm-up generations spent on the calibration: the served trial needs 256 decode
 * tokens and a second of decoding per count (~5 generations of 128 on 134M, ~25 on stories260K).
 */
const maxCalibrationRequests = 40;

/**
 * Sends single-stream generations until the cached choice records the served trial's verdict;
 * returns what was chosen, in words, for the tables.
 */
export async function settleThreadChoice(
  engine: PeerEngine,
  options: { home: string; modelPath: string; prompt: (index: number) => string; logTail: () => string },
): Promise<string> {
  const { modelPath, prompt } = options;
  for (let index = 0; ; index++) {
    const choice = await cachedChoice(options.home, modelPath);
    // The runner logs the rule it falls back to when the machine was busy at load: nothing is cached then.
    const busy = /the machine is busy \(([^)]*)\)/.exec(options.logTail());
    if (choice === undefined && busy !== null)
      return `machine busy at load (${busy[1]}): cores − 1 by rule, nothing cached, measured again at a quiet moment`;
    if (choice?.detail?.includes("served:") === true || choice?.source === "cached")
      return describeChoice(choice, index);
    if (index >= maxCalibrationRequests)
      return choice === undefined
        ? `nothing cached after ${index} warm-up requests (machine not quiet at load: cores − 1 by rule)`
        : `${describeChoice(choice, index)}; served trial unfinished`;
    await engine.generate(prompt(index), 128);
  }
}

function describeChoice(choice: CachedChoice, requests: number): string {
  const served = /served: ([^→]*)→/.exec(choice.detail ?? "")?.[1]?.trim();
  const samples = served ?? choice.samples?.map((s) => `${s.threads}T ${s.tokensPerSecond} tok/s`).join(", ");
  return `decode ${choice.threads}T, prompt ${choice.batchThreads}T${samples ? ` (${samples})` : ""}${
    requests > 0 ? `, after ${requests} warm-up requests` : ", from the cache"
  }`;
}
