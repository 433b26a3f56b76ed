/**
 * The CMake options of the opt-in local CPU build (`npm run engine:build`): OpenMP keeps a
 * persistent thread team between decodes, native tunes to this CPU. node-llama-cpp names a local
 * build by a hash of its options, so loading passes the same ones (docs/decisions/0012).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const openmpBuildOptions: Readonly<Record<string, string>> = { GGML_OPENMP: "ON", GGML_NATIVE: "ON" };

/**
 * Whether node-llama-cpp holds a local build made with exactly the OpenMP options (it records
 * them in each build's `_nlcBuildMetadata.json`): what `--engine-build auto` would load.
 */
export function hasOpenmpBuild(packageRoot = join(process.cwd(), "node_modules", "node-llama-cpp")): boolean {
  const root = join(packageRoot, "llama", "localBuilds");
  if (!existsSync(root)) return false;
  return readdirSync(root).some((name) => {
    const metadata = join(root, name, "Release", "_nlcBuildMetadata.json");
    if (!existsSync(metadata)) return false;
    const parsed = JSON.parse(readFileSync(metadata, "utf8")) as {
      buildOptions?: { customCmakeOptions?: Record<string, string> };
    };
    const options = parsed.buildOptions?.customCmakeOptions ?? {};
    return (
      Object.entries(openmpBuildOptions).every(([option, value]) => options[option] === value) &&
      Object.keys(options).length === Object.keys(openmpBuildOptions).length
    );
  });
}
