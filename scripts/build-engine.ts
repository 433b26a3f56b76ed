/**
 * `npm run engine:build` — the opt-in local CPU build of llama.cpp for node-llama-cpp, with
 * OpenMP (a persistent thread team between decodes) and native CPU tuning (docs/decisions/0012).
 * It compiles the llama.cpp source that node-llama-cpp ships (llama/gitRelease.bundle): nothing is
 * downloaded. About 8 minutes on 2 idle vCPUs, longer on a busy machine. Runners then load it
 * under --engine-build auto (the default) or openmp.
 */
import { spawnSync } from "node:child_process";
import { openmpBuildOptions } from "../src/engine/index.js";

const env: NodeJS.ProcessEnv = { ...process.env };
for (const [option, value] of Object.entries(openmpBuildOptions))
  env[`NODE_LLAMA_CPP_CMAKE_OPTION_${option}`] = value;
console.error(
  `Building llama.cpp for node-llama-cpp with ${Object.entries(openmpBuildOptions)
    .map(([option, value]) => `${option}=${value}`)
    .join(" ")} (CPU only; this takes minutes)…`,
);
const result = spawnSync("npx", ["--no", "node-llama-cpp", "source", "download", "--gpu", "false"], {
  env,
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error(
    `engine:build failed (exit ${result.status ?? result.signal}). It needs cmake, make and g++ (apt-get install -y cmake g++ make); the output above says which step failed.`,
  );
  process.exit(1);
}
console.error(
  'Done. Start the server as usual: runners load this build under --engine-build auto; "rawrxd gpu" shows engine_build localBuild per model.',
);
