/**
 * `npm run engine:build` — the opt-in local CPU build of llama.cpp for node-llama-cpp, with
 * OpenMP (a persistent thread team between decodes) and native CPU tuning (docs/decisions/0012).
 * It compiles the llama.cpp source that node-llama-cpp ships (llama/gitRelease.bundle): nothing is
 * downloaded. About 8 minutes on 2 idle vCPUs, longer on a busy machine. Runners then load it
 * under --engine-build auto (the default) or openmp.
 *
 * `npm run engine:build -- --addon` recompiles only node-llama-cpp's addon in the existing build
 * folders (ninja or make in node_modules/node-llama-cpp/llama/localBuilds/*): seconds, for when
 * the addon's patched sources changed (src/engine/patches, ADR 0051) but llama.cpp did not.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { openmpBuildOptions } from "../src/engine/index.js";

if (process.argv.includes("--addon")) {
  const root = join("node_modules", "node-llama-cpp", "llama", "localBuilds");
  const folders = existsSync(root)
    ? readdirSync(root)
        .map((name) => join(root, name))
        .filter((folder) => existsSync(join(folder, "build.ninja")) || existsSync(join(folder, "Makefile")))
    : [];
  if (folders.length === 0) {
    console.error(`engine:build --addon: no build folder under ${root}; run "npm run engine:build" first.`);
    process.exit(1);
  }
  for (const folder of folders) {
    const tool = existsSync(join(folder, "build.ninja")) ? "ninja" : "make";
    console.error(`Recompiling the addon in ${folder} (${tool})…`);
    const built = spawnSync(tool, [], { cwd: folder, stdio: "inherit" });
    if (built.status !== 0) {
      console.error(
        `engine:build --addon failed in ${folder} (exit ${built.status ?? built.signal}); the output above says why.`,
      );
      process.exit(1);
    }
  }
  process.exit(0);
}

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
