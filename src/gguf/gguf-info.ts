import { fileTypeLabel } from "./gguf-format.js";
import { isArraySummary, type GgufKeyValue, type GgufMetadataValue } from "./read-metadata.js";
import type { GgufTensorInfo } from "./read-tensor-infos.js";

/** What `readGgufHeader` learns from a valid file: the raw header plus facts for `show` and memory planning. */
export interface GgufInfo {
  path: string;
  fileBytes: number;
  version: number;
  architecture: string;
  /** `general.name`, when present. */
  name: string | undefined;
  alignmentBytes: number;
  /**
   * Every key/value; arrays longer than `GgufLimits.maxKeptArrayLength` are summaries, except
   * per-layer hyper-parameters (head counts, feed-forward lengths), kept up to 512 long.
   * A Map, not a record, so keys from the file cannot collide with Object.prototype.
   */
  metadata: ReadonlyMap<string, GgufMetadataValue>;
  tensors: readonly GgufTensorInfo[];
  /** File offset where tensor data starts (header end, padded to the alignment). */
  tensorDataOffset: number;
  contextLength: number | undefined;
  embeddingLength: number | undefined;
  blockCount: number | undefined;
  /** Largest value when the file has one per layer. */
  headCount: number | undefined;
  /** Largest value when the file has one per layer; defaults to `headCount` like llama.cpp. */
  headCountKv: number | undefined;
  feedForwardLength: number | undefined;
  /** Length of `tokenizer.ggml.tokens`, else `<arch>.vocab_size`. */
  vocabSize: number | undefined;
  /** Sum of all tensors' element counts. */
  parameterCount: number;
  /** Sum of all tensors' data bytes. */
  tensorBytes: number;
  /** `general.file_type` as a label ("Q8_0", "Q4_K_M"), when present. */
  fileType: string | undefined;
  /** The ggml type holding the most parameters. */
  dominantTensorType: string | undefined;
  /** Label for display: `fileType`, else `dominantTensorType`, else "unknown". */
  quantization: string;
  chatTemplate: string | undefined;
  bosTokenId: number | undefined;
  eosTokenId: number | undefined;
}

export interface HeaderParts {
  path: string;
  fileBytes: number;
  version: number;
  architecture: string;
  alignmentBytes: number;
  keyValues: ReadonlyMap<string, GgufKeyValue>;
  tensors: readonly GgufTensorInfo[];
  tensorDataOffset: number;
}

export function describeGguf(parts: HeaderParts): GgufInfo {
  const metadata = new Map([...parts.keyValues].map(([key, entry]) => [key, entry.value]));
  const prefix = `${parts.architecture}.`;
  const numberAt = (key: string): number | undefined => toNumber(metadata.get(key));
  const largestAt = (key: string): number | undefined => largestNumber(metadata.get(key));
  const headCount = largestAt(`${prefix}attention.head_count`);
  const fileTypeId = numberAt("general.file_type");
  const fileType = fileTypeId === undefined ? undefined : fileTypeLabel(fileTypeId);
  const dominantTensorType = findDominantType(parts.tensors);
  const name = metadata.get("general.name");
  const chatTemplate = metadata.get("tokenizer.chat_template");
  return {
    path: parts.path,
    fileBytes: parts.fileBytes,
    version: parts.version,
    architecture: parts.architecture,
    name: typeof name === "string" ? name : undefined,
    alignmentBytes: parts.alignmentBytes,
    metadata,
    tensors: parts.tensors,
    tensorDataOffset: parts.tensorDataOffset,
    contextLength: numberAt(`${prefix}context_length`),
    embeddingLength: numberAt(`${prefix}embedding_length`),
    blockCount: numberAt(`${prefix}block_count`),
    headCount,
    headCountKv: largestAt(`${prefix}attention.head_count_kv`) ?? headCount,
    feedForwardLength: largestAt(`${prefix}feed_forward_length`),
    vocabSize: arrayLength(metadata.get("tokenizer.ggml.tokens")) ?? numberAt(`${prefix}vocab_size`),
    parameterCount: parts.tensors.reduce((sum, tensor) => sum + tensor.elementCount, 0),
    tensorBytes: parts.tensors.reduce((sum, tensor) => sum + tensor.bytes, 0),
    fileType,
    dominantTensorType,
    quantization: fileType ?? dominantTensorType ?? "unknown",
    chatTemplate: typeof chatTemplate === "string" ? chatTemplate : undefined,
    bosTokenId: numberAt("tokenizer.ggml.bos_token_id"),
    eosTokenId: numberAt("tokenizer.ggml.eos_token_id"),
  };
}

function toNumber(value: GgufMetadataValue | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

function largestNumber(value: GgufMetadataValue | undefined): number | undefined {
  if (!Array.isArray(value)) return toNumber(value);
  const numbers = (value as readonly GgufMetadataValue[]).map(toNumber).filter((item) => item !== undefined);
  return numbers.length === 0 ? undefined : Math.max(...numbers);
}

function arrayLength(value: GgufMetadataValue | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length;
  return typeof value === "object" && isArraySummary(value) ? value.length : undefined;
}

function findDominantType(tensors: readonly GgufTensorInfo[]): string | undefined {
  const elementsByType = new Map<string, number>();
  for (const tensor of tensors) {
    elementsByType.set(tensor.type, (elementsByType.get(tensor.type) ?? 0) + tensor.elementCount);
  }
  let dominant: string | undefined;
  let dominantElements = -1;
  for (const [type, elements] of elementsByType) {
    if (elements > dominantElements) [dominant, dominantElements] = [type, elements];
  }
  return dominant;
}
