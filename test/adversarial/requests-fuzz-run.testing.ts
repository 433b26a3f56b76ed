/**
 * One fuzzer run against a running server: the cases of a seed in order, the property checked on
 * each reply, /health asked every 25 cases; returns the failures (at most 20), each naming its case.
 */
import { baseBodiesFor, fuzzCase, type FuzzCase, type Route } from "./requests-fuzz-cases.testing.js";
import { send, violation, type FuzzKeys } from "./requests-fuzz-check.testing.js";

export interface FuzzRun {
  url: string;
  /** The server's data folder: must never appear in a body. */
  home: string;
  routes: readonly Route[];
  keys: FuzzKeys;
  /** The installed model the base bodies name. */
  model: string;
  seed: number;
  iterations: number;
  perRequestTimeoutMs: number;
}

/** Routes that change state answer their base body differently the second time. */
const changesState = new Set([
  "POST /api/copy",
  "DELETE /api/delete",
  "POST /v1/admin/keys",
  "POST /v1/backups",
]);

export async function runFuzz(run: FuzzRun): Promise<string[]> {
  const baseStatuses = new Map<string, number>();
  const auth = { authorization: `Bearer ${run.keys.admin}` };

  /** Whether the case's route answers its unbroken base body (admin key) with a 2xx; asked once per route. */
  async function isBaseValid(fuzz: FuzzCase): Promise<boolean> {
    if (fuzz.field === undefined || changesState.has(fuzz.routeKey)) return false;
    let status = baseStatuses.get(fuzz.routeKey);
    if (status === undefined) {
      const [method, path] = fuzz.routeKey.split(" ") as [string, string];
      const response = await fetch(`${run.url}${path.replace(/:[A-Za-z]+/g, run.model)}`, {
        method,
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(baseBodiesFor(run.model)[fuzz.routeKey] ?? {}),
      });
      await response.arrayBuffer();
      status = response.status;
      baseStatuses.set(fuzz.routeKey, status);
    }
    return status < 300;
  }

  const failures: string[] = [];
  for (let index = 0; index < run.iterations && failures.length < 20; index++) {
    const fuzz = fuzzCase(run.seed, index, { routes: run.routes, model: run.model });
    let problem: string | undefined;
    try {
      const reply = await send(run.url, fuzz, { keys: run.keys, timeoutMs: run.perRequestTimeoutMs });
      problem = violation(fuzz, reply, { home: run.home, isBaseValid: await isBaseValid(fuzz) });
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem !== undefined) failures.push(`case ${index} (${fuzz.description}): ${problem}`);
    if (index % 25 === 24) {
      const health = await fetch(`${run.url}/health`, { headers: auth }).catch((error: Error) => error);
      if (health instanceof Error || health.status !== 200)
        failures.push(
          `after case ${index}: /health did not answer 200 (${String(health instanceof Error ? health.message : health.status)})`,
        );
    }
  }
  return failures;
}
