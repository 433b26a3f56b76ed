import { GgufProblem } from "./gguf-problem.js";
import { llamaCppArchitectures, llamaCppArchitecturesSource } from "./llama-architectures.js";
import { isArraySummary, type GgufKeyValue, type GgufMetadataValue } from "./read-metadata.js";

/**
 * Checks that stop a hostile or broken file before llama.cpp reads its vocabulary: llama.cpp
 * indexes the scores and token types by token id (it throws only when they are shorter), and
 * warns and carries on when a special token id is out of range, leaving a model that behaves
 * oddly instead of one that fails clearly.
 */
const vocabularyKeys = ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"];
const specialTokenIdKey = /^tokenizer\.ggml\.[a-z_]+_token_id$/;
const noTokenUint32 = 0xffff_ffff;
const integerTypes = new Set(["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"]);

/** An architecture the bundled llama.cpp does not know fails there with only "Failed to load model". */
export function checkArchitectureKnown(architecture: string): void {
  if (llamaCppArchitectures.has(architecture)) return;
  throw new GgufProblem(
    `its architecture "${architecture.slice(0, 64)}" is not one the llama.cpp in this server (${llamaCppArchitecturesSource}) knows`,
    "Use a model of a supported architecture, or a RawrXD built on a llama.cpp that supports it.",
  );
}

export function checkVocabulary(metadata: ReadonlyMap<string, GgufKeyValue>): void {
  const lengths = vocabularyKeys
    .map((key) => ({ key, length: arrayLength(metadata.get(key)) }))
    .filter((entry): entry is { key: string; length: number } => entry.length !== undefined);
  const [tokens] = lengths;
  if (tokens === undefined || tokens.key !== vocabularyKeys[0]) {
    if (lengths.length > 0) {
      throw new GgufProblem(`it has "${lengths[0]!.key}" but no "tokenizer.ggml.tokens" array`);
    }
    return;
  }
  for (const other of lengths.slice(1)) {
    if (other.length !== tokens.length) {
      throw new GgufProblem(
        `the vocabulary arrays disagree: "${tokens.key}" has ${tokens.length} entries but "${other.key}" has ${other.length}`,
      );
    }
  }
  for (const [key, entry] of metadata) {
    if (!specialTokenIdKey.test(key) || !integerTypes.has(entry.type)) continue;
    const id = Number(entry.value);
    // LLAMA_TOKEN_NULL means "no such token": -1 as an int32, 0xFFFFFFFF as a uint32 (stories260K).
    if (id === -1 || id === noTokenUint32) continue;
    if (id >= tokens.length || id < 0) {
      throw new GgufProblem(
        `"${key}" is ${id}, outside the vocabulary of ${tokens.length} tokens (ids 0 to ${tokens.length - 1})`,
      );
    }
  }
}

function arrayLength(entry: GgufKeyValue | undefined): number | undefined {
  if (entry === undefined) return undefined;
  const value: GgufMetadataValue = entry.value;
  if (Array.isArray(value)) return value.length;
  if (typeof value === "object" && isArraySummary(value)) return value.length;
  throw new GgufProblem(`"${entry.key}" must be an array, but it is a ${entry.type}`);
}
