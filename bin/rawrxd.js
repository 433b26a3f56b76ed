#!/usr/bin/env -S node --no-memory-reducer
// Entry point. `npm ci` and `npm start` compile src/ into dist/ (scripts/ensure-server-build.ts);
// while that build is current the CLI runs it as plain JavaScript, and otherwise (src/ edited
// since, or no build) it runs the TypeScript source through tsx, so a fresh clone needs no build
// step (ADR 0060). RAWRXD_FROM_SOURCE=1 runs the source even when the build is current.
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { isServerBuildCurrent } from "./server-build.js";

// The flags of src/core/node-flags.ts. The shebang and `npm start` pass them at start, which is
// when V8 reads them for this process's heap; set here as well, they still reach the isolate tsx
// starts below when the process was run as `node bin/rawrxd.js` without them.
setFlagsFromString("--no-memory-reducer");

let main;
if (process.env.RAWRXD_FROM_SOURCE !== "1" && isServerBuildCurrent(join(import.meta.dirname, ".."))) {
  ({ main } = await import("../dist/cli/index.js"));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/index.ts"));
}
process.exitCode = await main(process.argv.slice(2));
