/**
 * The request fuzzer's smaller pass against the real engine on stories260K (a runner process):
 * the hostile prompts, numbers and names reach node-llama-cpp's tokenizer and sampler, and the
 * property holds there too — a 2xx or a JSON 4xx, no 5xx, no hang, no crash, no server path.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startModelServer, type ModelTestServer } from "../model/helpers.js";
import { fuzzIterations, fuzzSeed } from "./requests-fuzz-cases.testing.js";
import type { FuzzKeys } from "./requests-fuzz-check.testing.js";
import { runFuzz } from "./requests-fuzz-run.testing.js";

const adminKey = "rxd_fuzz_engine_admin_key_01";
const seed = fuzzSeed() ^ 0xe5;
// A fifth of the FakeEngine pass: generations are real here.
const iterations = Math.max(1, Math.floor(fuzzIterations(750) / 5));

let test: ModelTestServer;
let keys: FuzzKeys;

beforeAll(async () => {
  test = await startModelServer({ "api-keys": adminKey, "auth-failures-per-minute": "0", "max-queue": "64" });
  const made = await fetch(`${test.url}/v1/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "fuzz-user", role: "user" }),
  });
  keys = { admin: adminKey, user: ((await made.json()) as { key: string }).key };
});

afterAll(() => test?.dispose());

describe(`request fuzzer on the real engine (seed ${seed}, ${iterations} cases)`, () => {
  it("answers every case with a 2xx or a JSON 4xx, leaks nothing and stays up", async () => {
    const failures = await runFuzz({
      url: test.url,
      home: test.home,
      routes: test.server.routes.filter((route) => route.method !== "ALL"),
      keys,
      model: "stories260K",
      seed,
      iterations,
      // A case may unload the model: the next one waits for a reload, 8 s on a busy 2-vCPU runner.
      perRequestTimeoutMs: 90_000,
    });
    expect(failures, `RAWRXD_FUZZ_SEED=${fuzzSeed()} (engine pass seed ${seed})`).toEqual([]);
  });
});
