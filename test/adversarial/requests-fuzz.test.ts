/**
 * The seeded request fuzzer (#15 §1 "Requests") against the in-process server with FakeEngine:
 * every route the app serves, any method, admin / user / wrong / no key, hostile bodies, paths,
 * query strings and headers. Every response must be a 2xx or a 4xx with a JSON error body that
 * names the broken field — never a 5xx, a hang, a crash or a server path. Reproduce a failure
 * with RAWRXD_FUZZ_SEED (printed) and more cases with RAWRXD_FUZZ_ITERATIONS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startTestServer, type TestServer } from "../e2e/helpers.js";
import { fuzzIterations, fuzzSeed } from "./requests-fuzz-cases.testing.js";
import type { FuzzKeys } from "./requests-fuzz-check.testing.js";
import { runFuzz } from "./requests-fuzz-run.testing.js";

const adminKey = "rxd_fuzz_admin_key_0123456789";
const seed = fuzzSeed();
const iterations = fuzzIterations(1000);

let test: TestServer;
let keys: FuzzKeys;

beforeAll(async () => {
  test = await startTestServer({
    models: { alpha: {}, beta: {} },
    flags: { "api-keys": adminKey, "auth-failures-per-minute": "0", "max-queue": "64" },
  });
  const made = await postJson(
    `${test.url}/v1/admin/keys`,
    { name: "fuzz-user", role: "user" },
    { headers: { authorization: `Bearer ${adminKey}` } },
  );
  keys = { admin: adminKey, user: ((await made.json()) as { key: string }).key };
});

afterAll(() => test?.dispose());

describe(`request fuzzer on FakeEngine (seed ${seed}, ${iterations} cases)`, () => {
  it("answers every case with a 2xx or a JSON 4xx, leaks nothing and stays up", async () => {
    const failures = await runFuzz({
      url: test.url,
      home: test.home,
      // The catch-all middleware route is not an endpoint.
      routes: test.server.routes.filter((route) => route.method !== "ALL"),
      keys,
      model: "alpha",
      seed,
      iterations,
      perRequestTimeoutMs: 10_000,
    });
    expect(failures, `RAWRXD_FUZZ_SEED=${seed}`).toEqual([]);
  });
});
