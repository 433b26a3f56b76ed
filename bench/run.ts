/**
 * `npm run bench [-- --quick] [--models stories,134m] [--threads 1,2] [--suite serving|queue|all]`
 *
 * --suite: serving = node-llama-cpp directly against the same generation through RawrXD
 * (bench/serving/, results/latest.json); queue = the scheduler's mixed load and concurrency
 * (bench/queue/, results/queue-latest.json); all (default) = both, serving first.
 */
import { parseArgs } from "node:util";
import { modelKeys, type ModelKey } from "./lib/models.js";
import { runQueueSuite } from "./queue/suite.js";
import { runServingSuite } from "./serving/suite.js";

const suites = ["serving", "queue", "all"] as const;
type Suite = (typeof suites)[number];

function parseCommandLine(): {
  quick: boolean;
  models: ModelKey[];
  threads: number[] | undefined;
  suite: Suite;
} {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      models: { type: "string" },
      threads: { type: "string" },
      suite: { type: "string", default: "all" },
    },
    strict: true,
  });
  const models =
    values.models === undefined ? [...modelKeys] : values.models.split(",").map((name) => name.trim());
  for (const model of models) {
    if (!(modelKeys as readonly string[]).includes(model))
      throw new Error(`Unknown model "${model}"; use one of ${modelKeys.join(", ")}.`);
  }
  const threads = values.threads?.split(",").map((count) => Number.parseInt(count, 10));
  if (threads?.some((count) => !Number.isInteger(count) || count < 1))
    throw new Error(`--threads takes a list of positive integers, got "${values.threads}".`);
  if (!(suites as readonly string[]).includes(values.suite))
    throw new Error(`--suite takes one of ${suites.join(", ")}, got "${values.suite}".`);
  return { quick: values.quick, models: models as ModelKey[], threads, suite: values.suite as Suite };
}

async function main(): Promise<void> {
  const options = parseCommandLine();
  const log = (line: string): void => console.error(line);
  if (options.suite === "queue") return runQueueSuite({ quick: options.quick, log });
  await runServingSuite({ ...options, log });
  if (options.suite === "all") {
    console.log("");
    await runQueueSuite({ quick: options.quick, log });
  }
}

await main();
