/**
 * The seeded request fuzzer (#15 §1 "Requests") against the in-process server with FakeEngine:
 * every route the app serves, any method, admin / user / wrong / no key, hostile bodies, paths,
 * query strings and headers. Every response must be a 2xx or a 4xx with a JSON error body that
 * names the broken field — never a 5xx, a hang, a crash or a server path. Reproduce a failure
 * with RAWRXD_FUZZ_SEED (printed) and more cases with RAWRXD_FUZZ_ITERATIONS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, postJson, type TestServer } from "../e2e/helpers.js";
import {
  baseBodies,
  fuzzCase,
  fuzzIterations,
  fuzzSeed,
  type FuzzCase,
  type Route,
} from "./requests-fuzz-cases.testing.js";
import { send, violation, type FuzzKeys } from "./requests-fuzz-check.testing.js";

const adminKey = "rxd_fuzz_admin_key_0123456789";
const seed = fuzzSeed();
const iterations = fuzzIterations(1000);
const perRequestTimeoutMs = 10_000;

let test: TestServer;
let keys: FuzzKeys;
let routes: Route[];

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
  // The catch-all middleware route is not an endpoint.
  routes = test.server.routes.filter((route) => route.method !== "ALL");
});

afterAll(() => test?.dispose());

const baseStatuses = new Map<string, number>();
const changesState = new Set([
  "POST /api/copy",
  "DELETE /api/delete",
  "POST /v1/admin/keys",
  "POST /v1/backups",
]);

/** Whether the case's route answers its unbroken base body (admin key) with a 2xx; asked once per route. */
async function isBaseValid(fuzz: FuzzCase): Promise<boolean> {
  // Routes that change state answer their base body differently the second time.
  if (fuzz.field === undefined || changesState.has(fuzz.routeKey)) return false;
  let status = baseStatuses.get(fuzz.routeKey);
  if (status === undefined) {
    const [method, path] = fuzz.routeKey.split(" ") as [string, string];
    const response = await fetch(`${test.url}${path.replace(/:[A-Za-z]+/g, "alpha")}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify(baseBodies[fuzz.routeKey] ?? {}),
    });
    await response.arrayBuffer();
    status = response.status;
    baseStatuses.set(fuzz.routeKey, status);
  }
  return status < 300;
}

describe(`request fuzzer (seed ${seed}, ${iterations} cases)`, () => {
  it("answers every case with a 2xx or a JSON 4xx, leaks nothing and stays up", async () => {
    const failures: string[] = [];
    for (let index = 0; index < iterations; index++) {
      const fuzz = fuzzCase(seed, index, routes);
      let problem: string | undefined;
      try {
        const reply = await send(test.url, fuzz, { keys, timeoutMs: perRequestTimeoutMs });
        problem = violation(fuzz, reply, { home: test.home, isBaseValid: await isBaseValid(fuzz) });
      } catch (error) {
        problem = (error as Error).message;
      }
      if (problem !== undefined) failures.push(`case ${index} (${fuzz.description}): ${problem}`);
      if (index % 25 === 24) {
        const health = await fetch(`${test.url}/health`, {
          headers: { authorization: `Bearer ${adminKey}` },
        });
        if (health.status !== 200) failures.push(`after case ${index}: /health answered ${health.status}`);
      }
      if (failures.length >= 20) break;
    }
    expect(failures, `RAWRXD_FUZZ_SEED=${seed}`).toEqual([]);
  });
});
