import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ThreadChoice } from "../../gpu/index.js";
import { cacheKey, deleteCacheEntry, readCacheEntry, writeCacheEntry } from "./thread-choice-cache.js";

const choice: ThreadChoice = {
  threads: 1,
  batchThreads: 2,
  source: "calibrated",
  samples: [{ threads: 1, tokensPerSecond: 100 }],
  batchSamples: [],
  detail: "",
};

describe("thread-choice cache", () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "rawrxd-thread-cache-"));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it("keeps the conditions of each entry, drops one entry on request, and starts over on an old version", async () => {
    const model = join(directory, "model.gguf");
    writeFileSync(model, "x");
    const key = await cacheKey({ modelPath: model, engineKey: "prebuilt-cpu", cores: 2, candidates: [1, 2] });
    expect(key).toContain("|2 cores|prebuilt-cpu|1,2");
    const path = join(directory, "cache", "threads.json");
    const conditions = {
      loadAverage1: 0.2,
      otherBusyCores: 0.1,
      stealPercent: 0,
      iowaitPercent: 0,
      inFlight: 0,
    };
    await writeCacheEntry(path, key, { choice, measuredAt: "2026-12-01T00:00:00.000Z", conditions });
    await writeCacheEntry(path, "other", { choice, measuredAt: "2026-12-01T00:00:00.000Z" });
    expect(await readCacheEntry(path, key)).toMatchObject({ choice, conditions });
    await deleteCacheEntry(path, key);
    expect(await readCacheEntry(path, key)).toBeUndefined();
    expect(await readCacheEntry(path, "other")).toBeDefined();
    const file = JSON.parse(readFileSync(path, "utf8")) as { version: number };
    writeFileSync(path, JSON.stringify({ ...file, version: 2 }));
    expect(await readCacheEntry(path, "other")).toBeUndefined();
  });
});
