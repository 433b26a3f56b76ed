/**
 * --threads auto on a busy machine (docs/decisions/0032): with the load reading "busy", the
 * runner uses the rule, measures nothing into the cache, and a later load on a quiet machine
 * calibrates and caches, recording the conditions it measured under.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, type GenerateRequest } from "../../src/core/index.js";
import { RunnerProcess } from "../../src/engine/index.js";
import type { ThreadChoice } from "../../src/gpu/index.js";
import { storiesPath } from "./helpers.js";

interface ThreadsCache {
  entries: Record<string, { choice: ThreadChoice; conditions?: { loadAverage1: number; inFlight: number } }>;
}

describe("--threads auto under load", () => {
  let cacheDirectory: string;
  beforeAll(() => {
    cacheDirectory = mkdtempSync(join(tmpdir(), "rawrxd-threads-busy-"));
  });
  afterAll(() => rmSync(cacheDirectory, { recursive: true, force: true }));

  function start(loadProbe: "quiet" | "busy", candidates: number[] | undefined): Promise<RunnerProcess> {
    return RunnerProcess.start(
      {
        name: "stories260K",
        path: storiesPath,
        contextTokens: 256,
        parallel: 1,
        threads: 0,
        gpu: "cpu",
        loadTimeoutMs: 60_000,
        tuning: {
          requestedGpu: "cpu",
          gpuLayers: "auto",
          gpuMarginBytes: -1,
          cacheDirectory,
          threadCandidates: candidates,
          loadProbe,
        },
      },
      { logger: silentLogger },
    );
  }

  async function load(loadProbe: "quiet" | "busy"): Promise<ThreadChoice> {
    const runner = await start(loadProbe, [1, 2]);
    try {
      return runner.info.plan!.threads;
    } finally {
      await runner.dispose();
    }
  }

  it("a busy reading: the rule, nothing measured, nothing cached; a quiet load then calibrates and caches", async () => {
    const busy = await load("busy");
    expect(busy).toMatchObject({ source: "rule", samples: [], batchSamples: [] });
    expect(busy.detail).toMatch(
      /^machine busy \(other processes kept [\d.]+ of \d+ cores busy\): rule \d thread\(s\)/,
    );
    expect(existsSync(join(cacheDirectory, "threads.json"))).toBe(false);

    const quiet = await load("quiet");
    expect(quiet.source).toBe("calibrated");
    expect(quiet.samples.map((sample) => sample.threads)).toEqual([1, 2]);
    const cache = JSON.parse(readFileSync(join(cacheDirectory, "threads.json"), "utf8")) as ThreadsCache;
    const entries = Object.values(cache.entries);
    expect(entries.map((entry) => entry.choice.threads)).toEqual([quiet.threads]);
    expect(entries[0]!.conditions).toMatchObject({ loadAverage1: 0, inFlight: 0 });

    // A busy reading later does not touch a fresh cached answer.
    expect((await load("busy")).source).toBe("cached");
  });

  // The served trial runs with the default candidates on 2 cores only (ADR 0032).
  it.runIf(availableParallelism() === 2)(
    "on 2 cores, single-stream generations compare 1 and 2 decode threads and the served rates are cached",
    async () => {
      rmSync(join(cacheDirectory, "threads.json"), { force: true });
      const runner = await start("quiet", undefined);
      try {
        expect(runner.info.plan!.threads).toMatchObject({ source: "calibrated", threads: 1 });
        expect(runner.info.plan!.threads.samples.map((sample) => sample.threads)).toEqual([1]);
        let served: ThreadChoice | undefined;
        for (let index = 0; index < 40 && served === undefined; index++) {
          const request: GenerateRequest = {
            id: `trial-${index}`,
            model: "stories260K",
            input: { kind: "text", prompt: "Once upon a time" },
            maxTokens: 120,
            stop: [],
            sampling: { temperature: 0.9, seed: index },
            reportProgress: false,
            priority: "normal",
          };
          for await (const _event of runner.generate(request, new AbortController().signal));
          const cache = JSON.parse(
            readFileSync(join(cacheDirectory, "threads.json"), "utf8"),
          ) as ThreadsCache;
          served = Object.values(cache.entries).find((entry) =>
            entry.choice.detail.includes("served:"),
          )?.choice;
        }
        expect(served?.samples.map((sample) => sample.threads)).toEqual([1, 2]);
        expect([1, 2]).toContain(served?.threads);
      } finally {
        await runner.dispose();
      }
    },
  );
});
