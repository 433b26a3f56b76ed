/**
 * The CMake options of the opt-in local CPU build (`npm run engine:build`): OpenMP keeps a
 * persistent thread team between decodes, native tunes to this CPU. node-llama-cpp names a local
 * build by a hash of its options, so loading passes the same ones (docs/decisions/0012).
 */
export const openmpBuildOptions: Readonly<Record<string, string>> = { GGML_OPENMP: "ON", GGML_NATIVE: "ON" };
