import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Token } from "node-llama-cpp";
import { FakeTime } from "../../core/index.js";
import { FakeSequence, tokenRun } from "./fake-sequence.testing.js";
import { modelDigest } from "./model-digest.js";
import { PromptCacheStore } from "./prompt-cache-store.js";

const identity = { modelSha256: "a".repeat(64), settings: { contextTokens: 512 } };

describe("PromptCacheStore", () => {
  let directory: string;
  let time: FakeTime;
  const logs: string[] = [];
  const open = (maxBytes = 1024 * 1024, other = identity): PromptCacheStore =>
    PromptCacheStore.open({
      directory,
      identity: other,
      maxBytes,
      time,
      log: (_level, message) => logs.push(message),
    });

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "rawrxd-pcs-"));
    time = new FakeTime();
    logs.length = 0;
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it("saves atomically and a reopened store loads the longest shared prefix", async () => {
    const store = open();
    expect(await store.save(new FakeSequence(tokenRun(300)).asSequence)).toBe(true);
    // One .state and its .json, no temp file left.
    expect(
      readdirSync(store.folder)
        .map((name) => name.replace(/^[0-9a-f]{64}/, "H"))
        .sort(),
    ).toEqual(["H.json", "H.state"]);
    const reopened = open();
    expect(reopened.entryCount).toBe(1);
    const prompt = [...tokenRun(200), 9999, 9998] as Token[];
    expect(reopened.longestPrefix(prompt)).toBe(200);
    const sequence = new FakeSequence();
    expect(await reopened.loadInto(sequence.asSequence, prompt)).toBe(true);
    expect(sequence.contextTokens).toEqual(tokenRun(300));
  });

  it("ignores prefixes under 64 tokens and loads nothing the sequence already holds", async () => {
    const store = open();
    await store.save(new FakeSequence(tokenRun(300)).asSequence);
    expect(store.longestPrefix(tokenRun(40) as Token[])).toBe(0);
    const holding = new FakeSequence(tokenRun(250));
    expect(await store.loadInto(holding.asSequence, tokenRun(300) as Token[])).toBe(false);
    expect(holding.loads).toBe(0);
  });

  it("deletes a state whose SHA-256 does not match before loading it", async () => {
    const store = open();
    await store.save(new FakeSequence(tokenRun(100)).asSequence);
    const reopened = open();
    const [state] = readdirSync(reopened.folder).filter((name) => name.endsWith(".state"));
    const bytes = readFileSync(join(reopened.folder, state!));
    bytes[bytes.length - 1] = 0x41;
    writeFileSync(join(reopened.folder, state!), bytes);
    const sequence = new FakeSequence();
    expect(await reopened.loadInto(sequence.asSequence, tokenRun(101) as Token[])).toBe(false);
    expect(sequence.loads).toBe(0);
    expect(reopened.entryCount).toBe(0);
    expect(readdirSync(reopened.folder)).toEqual([]);
    expect(logs.join()).toContain("SHA-256");
  });

  it("deletes corrupt, incomplete and foreign files when opened", async () => {
    const store = open();
    await store.save(new FakeSequence(tokenRun(100)).asSequence);
    const [meta] = readdirSync(store.folder).filter((name) => name.endsWith(".json"));
    const parsed = JSON.parse(readFileSync(join(store.folder, meta!), "utf8")) as { identity: string };
    writeFileSync(join(store.folder, meta!), JSON.stringify({ ...parsed, identity: "another model" }));
    writeFileSync(join(store.folder, `${"b".repeat(64)}.json`), "{broken");
    writeFileSync(join(store.folder, `${"b".repeat(64)}.state`), "x");
    writeFileSync(join(store.folder, `${"c".repeat(64)}.state`), "orphan");
    writeFileSync(join(store.folder, ".tmp-1-0-x.state"), "partial");
    const reopened = open();
    expect(reopened.entryCount).toBe(0);
    expect(readdirSync(reopened.folder)).toEqual([]);
  });

  it("keeps different models and context settings apart", async () => {
    await open().save(new FakeSequence(tokenRun(100)).asSequence);
    const other = open(1024 * 1024, { modelSha256: "b".repeat(64), settings: { contextTokens: 512 } });
    expect(other.entryCount).toBe(0);
    expect(open().entryCount).toBe(1);
  });

  it("evicts the least recently used entries over the size bound", async () => {
    const store = open(3 * 100 * 16);
    await store.save(new FakeSequence(tokenRun(100, 0)).asSequence);
    time.advance(1000);
    await store.save(new FakeSequence(tokenRun(100, 1000)).asSequence);
    time.advance(1000);
    await store.save(new FakeSequence(tokenRun(100, 2000)).asSequence);
    time.advance(1000);
    // Using the first makes the second the least recently used.
    expect(await store.loadInto(new FakeSequence().asSequence, tokenRun(101, 0) as Token[])).toBe(true);
    time.advance(1000);
    await store.save(new FakeSequence(tokenRun(100, 3000)).asSequence);
    expect(store.entryCount).toBe(3);
    expect(store.longestPrefix(tokenRun(101, 1000) as Token[])).toBe(0);
    expect(store.longestPrefix(tokenRun(101, 0) as Token[])).toBe(100);
    // The order survives a restart (file times).
    const reopened = open(3 * 100 * 16);
    await reopened.save(new FakeSequence(tokenRun(100, 4000)).asSequence);
    expect(reopened.longestPrefix(tokenRun(101, 2000) as Token[])).toBe(0);
    expect(reopened.longestPrefix(tokenRun(101, 0) as Token[])).toBe(100);
  });

  it("hashes a model file once per version and remembers it", async () => {
    const model = join(directory, "m.gguf");
    writeFileSync(model, "weights");
    const first = await modelDigest(directory, model);
    expect(first).toBe(createHash("sha256").update("weights").digest("hex"));
    expect(await modelDigest(directory, model)).toBe(first);
    expect(readdirSync(join(directory, "model-digests"))).toHaveLength(1);
  });
});
