/**
 * GGUF files: a bounded, validating header reader that rejects what would crash llama.cpp,
 * and a streaming writer for the synthetic models that tests and benchmarks use.
 */
export { readGgufHeader, type ReadGgufHeaderOptions } from "./read-gguf-header.js";
export type { GgufInfo } from "./gguf-info.js";
export type { GgufTensorInfo } from "./read-tensor-infos.js";
export type { GgufArraySummary, GgufMetadataValue } from "./read-metadata.js";
export { describeFileKind } from "./file-kind.js";
export { llamaCppArchitectures, llamaCppArchitecturesSource } from "./llama-architectures.js";
export { defaultGgufLimits, type GgufLimits } from "./gguf-limits.js";
export { ggmlTypes, type GgmlType } from "./ggml-types.js";
export { fileTypeLabel, type GgufValueTypeName } from "./gguf-format.js";
export { writeGguf, measureGguf, type WriteGgufOptions, type WrittenGguf } from "./gguf-writer.js";
export type { GgufWriteKeyValue, GgufWriteTensor, GgufWriteValue } from "./gguf-encoding.js";
export { writeLlamaModel, createLlamaModelContents, type LlamaModelShape } from "./llama-model-writer.js";
export {
  syntheticModelShapes,
  ensureSyntheticModel,
  ensureSyntheticModelAt,
  isSyntheticModelPreset,
  type SyntheticModelPreset,
} from "./synthetic-models.js";
export { fimTokenIds, type FimTokenIds } from "./fim-tokens.js";
export { createFimModelContents, writeFimModel, type FimModelOptions } from "./fim-model-writer.js";
export { readVocabulary, vocabularyDifference, type Vocabulary } from "./compare-vocabulary.js";
