/**
 * Writes a synthetic benchmark model: `node --import tsx bench/lib/make-model.ts <preset> <out.gguf>`.
 * Skips the work when <out.gguf> already exists with the expected size.
 */
import {
  ensureSyntheticModelAt,
  isSyntheticModelPreset,
  readGgufHeader,
  syntheticModelShapes,
} from "../../src/gguf/index.js";
import { formatBytes, systemTime } from "../../src/core/index.js";

const [preset, outputPath] = process.argv.slice(2);
if (preset === undefined || outputPath === undefined || !isSyntheticModelPreset(preset)) {
  const presets = Object.keys(syntheticModelShapes).join(", ");
  console.error(`Usage: node --import tsx bench/lib/make-model.ts <preset> <out.gguf>\nPresets: ${presets}`);
  process.exit(2);
}

const startMs = systemTime.monotonicNow();
const isWritten = await ensureSyntheticModelAt(preset, outputPath);
const info = await readGgufHeader(outputPath);
const seconds = ((systemTime.monotonicNow() - startMs) / 1000).toFixed(2);
const action = isWritten ? `written in ${seconds} s` : "already there, skipped";
console.log(
  `${outputPath}: ${preset}, ${formatBytes(info.fileBytes)}, ${info.parameterCount} parameters, ${info.quantization}, ${action}`,
);
