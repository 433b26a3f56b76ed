/**
 * Child process of the engine probe: `node engine-probe-child.ts cuda|vulkan|cpu`. Loads
 * node-llama-cpp's build for that backend (never compiles, never downloads) and prints one
 * JSON line (EngineProbeResult). A native abort ends only this process.
 */
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import type { EngineProbeResult } from "./gpu-probes.js";

const backend = process.argv[2];
// node-llama-cpp explains a rejected binary on the console; keep its words for the reason.
const warnings: string[] = [];
console.warn =
  console.error =
  console.log =
    (...parts: unknown[]) => void warnings.push(parts.map(String).join(" ").replace(/\s+/g, " ").trim());
let result: EngineProbeResult;
try {
  if (backend !== "cuda" && backend !== "vulkan" && backend !== "cpu")
    throw new Error(`unknown backend "${backend}"`);
  const llama = await getLlama({
    gpu: backend === "cpu" ? false : backend,
    build: "never",
    maxThreads: 1,
    logLevel: LlamaLogLevel.error,
    logger: () => undefined,
  });
  try {
    const vram = await llama.getVramState();
    const deviceNames = await llama.getGpuDeviceNames();
    const loaded = llama.gpu === false ? "cpu" : llama.gpu;
    result = {
      isOk: loaded === backend,
      detail:
        loaded === backend
          ? `${llama.buildType} ${loaded} build loaded`
          : `asked for ${backend}, the engine loaded ${loaded}`,
      deviceNames,
      totalBytes: vram.total,
      freeBytes: vram.free,
      unifiedBytes: vram.unifiedSize,
    };
  } finally {
    await llama.dispose();
  }
} catch (error) {
  const message =
    error instanceof Error
      ? error.name === "Error"
        ? error.message
        : `${error.name}: ${error.message}`
      : String(error);
  const explanation = warnings.find((line) => line.length > 0);
  const detail = `${message.split("\n")[0]!}${explanation === undefined ? "" : ` (${explanation.replace(/^\[node-llama-cpp\]\s*/, "")})`}`;
  result = { isOk: false, detail, deviceNames: [], totalBytes: 0, freeBytes: 0, unifiedBytes: 0 };
}
process.stdout.write(`\n${JSON.stringify(result)}\n`);
process.exit(0);
