#!/usr/bin/env -S node --no-memory-reducer
// Entry point: runs the TypeScript CLI through tsx so a fresh clone needs no build step.
import { setFlagsFromString } from "node:v8";
import { register } from "tsx/esm/api";

// The flags of src/core/node-flags.ts. The shebang and `npm start` pass them at start, which is
// when V8 reads them for this process's heap; set here as well, they still reach the isolate tsx
// starts below when the process was run as `node bin/rawrxd.js` without them.
setFlagsFromString("--no-memory-reducer");

register();
const { main } = await import("../src/cli/index.ts");
process.exitCode = await main(process.argv.slice(2));
