/**
 * A cluster node as its own process with FakeEngine, so a test can SIGKILL it: argv[2] is JSON
 * `{ models: Record<name, FakeModelBehaviour>, flags: Record<flag, value> }`. Prints its URL on
 * one stdout line once it has joined the cluster.
 */
import { startTestServer } from "../e2e/helpers.js";
import type { FakeModelBehaviour } from "../../src/engine/index.js";

const spec = JSON.parse(process.argv[2] ?? "{}") as {
  models: Record<string, FakeModelBehaviour>;
  flags: Record<string, string>;
};
const node = await startTestServer({ models: spec.models, flags: spec.flags });
process.stdout.write(`${JSON.stringify({ url: node.url, home: node.home })}\n`);
process.once("SIGTERM", () => void node.dispose().then(() => process.exit(0)));
