/**
 * `npm ci` (the `postinstall` script) runs this: it applies the project's fixes to the pinned
 * node-llama-cpp (src/engine/patches/engine-patches.ts, ADR 0042). Idempotent; fails the install
 * when the installed package is not the version the fixes were written for.
 */
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { patchEngine } from "../src/engine/patches/index.js";

const require = createRequire(import.meta.url);
// The package exports no package.json: its entry point is dist/index.js.
const packageDirectory = dirname(dirname(require.resolve("node-llama-cpp")));
const applied = patchEngine(packageDirectory);
if (applied.length > 0)
  console.log(`node-llama-cpp: applied ${applied.join(", ")} (${join("src", "engine", "patches")})`);
