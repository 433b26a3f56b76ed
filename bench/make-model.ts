/**
 * Writes a synthetic benchmark model: `node --import tsx bench/make-model.ts <preset> <out.gguf>`.
 * Skips the work when <out.gguf> already exists with the expected size.
 */
import {
  ensureSyntheticModelAt,
  isSyntheticModelPreset,
  readGgufHeader,
  syntheticModelShapes,
} from "../src/gguf/index.js";

const [preset, outputPath] = process.argv.slice(2);
if (preset === undefined || outputPath === undefined || !isSyntheticModelPreset(preset)) {
  const presets = Object.keys(syntheticModelShapes).join(", ");
  console.error(`Usage: node --import tsx bench/make-model.ts <preset> <out.gguf>\nPresets: ${presets}`);
  process.exit(2);
}

const startMs = performance.now();
const isWritten = await ensureSyntheticModelAt(preset, outputPath);
const info = await readGgufHeader(outputPath);
const seconds = ((performance.now() - startMs) / 1000).toFixed(2);
const action = isWritten ? `written in ${seconds} s` : "already there, skipped";
const megabytes = (info.fileBytes / 1e6).toFixed(1);
console.log(
  `${outputPath}: ${preset}, ${megabytes} MB, ${info.parameterCount} parameters, ${info.quantization}, ${action}`,
);
