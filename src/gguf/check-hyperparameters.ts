import { GgufProblem } from "./gguf-problem.js";
import { isArraySummary, type GgufKeyValue, type GgufMetadataValue } from "./read-metadata.js";

/**
 * Hyper-parameters that llama.cpp checks with GGML_ASSERT, which calls abort() and takes the
 * whole process down (notes/node-llama-cpp.md §9): they must be rejected before a native load.
 * Sources: llama-model.cpp `load_hparams` and llama-model-loader.cpp `create_tensor` (ne >= 1).
 */
const maxLayers = 512; // LLAMA_MAX_LAYERS
const maxExperts = 1024; // LLAMA_MAX_EXPERTS
const ropeScalingTypes = ["none", "linear", "yarn", "longrope"];
const integerTypes = new Set(["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"]);

export function readArchitecture(metadata: ReadonlyMap<string, GgufKeyValue>): string {
  const entry = metadata.get("general.architecture");
  if (entry === undefined) throw new GgufProblem(`it has no "general.architecture" metadata key`);
  if (entry.type !== "string" || entry.value === "") {
    throw new GgufProblem(`"general.architecture" must be a non-empty string, but it is a ${entry.type}`);
  }
  return entry.value as string;
}

export function checkHyperparameters(
  metadata: ReadonlyMap<string, GgufKeyValue>,
  architecture: string,
  tensorNames: ReadonlySet<string>,
): void {
  const prefix = `${architecture}.`;
  const blockCount = readInteger(metadata, `${prefix}block_count`);
  if (blockCount !== undefined && (blockCount < 1 || blockCount > maxLayers)) {
    throw new GgufProblem(
      `${prefix}block_count is ${blockCount}, but llama.cpp supports 1 to ${maxLayers} layers (it aborts on anything else)`,
    );
  }
  const embeddingLength = readInteger(metadata, `${prefix}embedding_length`);
  if (embeddingLength !== undefined && embeddingLength < 1) {
    throw new GgufProblem(`${prefix}embedding_length is ${embeddingLength}; it must be at least 1`);
  }
  const layers = { metadata, blockCount, tensorNames };
  for (const key of [`${prefix}attention.head_count`, `${prefix}attention.head_count_kv`]) {
    checkLayerCount({ ...layers, key, weightParts: attentionParts, isZeroScalarAllowed: false });
  }
  // Recurrent models (mamba) store a feed-forward length of 0 and have no feed-forward weights.
  const feedForwardKey = `${prefix}feed_forward_length`;
  checkLayerCount({
    ...layers,
    key: feedForwardKey,
    weightParts: feedForwardParts,
    isZeroScalarAllowed: true,
  });
  const nextnLayers = readInteger(metadata, `${prefix}nextn_predict_layers`);
  if (nextnLayers !== undefined && blockCount !== undefined && nextnLayers > blockCount) {
    throw new GgufProblem(
      `${prefix}nextn_predict_layers is ${nextnLayers}, more than ${prefix}block_count (${blockCount})`,
    );
  }
  checkExperts(metadata, prefix);
  const ropeScaling = metadata.get(`${prefix}rope.scaling.type`);
  const ropeScalingType = ropeScaling?.type === "string" ? (ropeScaling.value as string) : undefined;
  if (ropeScalingType !== undefined && !ropeScalingTypes.includes(ropeScalingType)) {
    throw new GgufProblem(
      `${prefix}rope.scaling.type is "${ropeScalingType}"; llama.cpp knows only ${ropeScalingTypes.join(", ")}`,
    );
  }
}

const attentionParts = ["attn_q", "attn_k", "attn_v", "attn_qkv"];
const feedForwardParts = ["ffn_gate", "ffn_up", "ffn_down"];

interface LayerCountCheck {
  metadata: ReadonlyMap<string, GgufKeyValue>;
  key: string;
  blockCount: number | undefined;
  tensorNames: ReadonlySet<string>;
  /** Weight names (`blk.N.<part>.weight`) whose shape is built from this count. */
  weightParts: readonly string[];
  /** A scalar 0 is fine when no layer has those weights. */
  isZeroScalarAllowed: boolean;
}

/**
 * A count that shapes a layer's weights must be at least 1 in every layer that has them:
 * llama.cpp asserts that every weight dimension is at least 1. A per-layer array may hold 0 for
 * layers without those weights (the recurrent layers of hybrid models).
 */
function checkLayerCount(check: LayerCountCheck): void {
  const { key, blockCount, tensorNames, weightParts } = check;
  const entry = check.metadata.get(key);
  if (entry === undefined) return;
  const hasWeights = (layer: number): boolean =>
    weightParts.some((part) => tensorNames.has(`blk.${layer}.${part}.weight`));
  if (entry.type !== "array") {
    const value = readInteger(check.metadata, key) ?? 0;
    let isUsed = !check.isZeroScalarAllowed;
    for (let layer = 0; layer < (blockCount ?? 0) && !isUsed; layer++) isUsed = hasWeights(layer);
    if (value < 1 && isUsed) throw new GgufProblem(`${key} is ${value}; it must be at least 1`);
    return;
  }
  const values = readIntegerArray(entry);
  if (blockCount !== undefined && values.length !== blockCount) {
    throw new GgufProblem(`${key} has ${values.length} per-layer values but there are ${blockCount} layers`);
  }
  values.forEach((value, layer) => {
    if (value < 0) throw new GgufProblem(`${key} is ${value} for layer ${layer}; it must not be negative`);
    if (value === 0 && hasWeights(layer)) {
      throw new GgufProblem(
        `${key} is 0 for layer ${layer}, which has ${weightParts.join("/")} weights; it must be at least 1`,
      );
    }
  });
}

function checkExperts(metadata: ReadonlyMap<string, GgufKeyValue>, prefix: string): void {
  const expertCount = readInteger(metadata, `${prefix}expert_count`) ?? 0;
  const usedEntry = metadata.get(`${prefix}expert_used_count`);
  const usedCounts = usedEntry === undefined ? [0] : readIntegerArray(usedEntry);
  const usedMax = Math.max(0, ...usedCounts);
  const groupCount = readInteger(metadata, `${prefix}expert_group_count`) ?? 0;
  const groupUsed = readInteger(metadata, `${prefix}expert_group_used_count`) ?? 0;
  const fail = (problem: string): never => {
    throw new GgufProblem(`the expert settings are inconsistent (llama.cpp aborts on them): ${problem}`);
  };
  if (expertCount > maxExperts) fail(`${prefix}expert_count ${expertCount} is above ${maxExperts}`);
  if (usedMax > expertCount) fail(`${usedMax} experts used per token but only ${expertCount} experts`);
  if (expertCount > 0) {
    if (usedMax === 0) fail(`${expertCount} experts but none used per token`);
    if (groupCount >= expertCount) fail(`${groupCount} expert groups for ${expertCount} experts`);
    if (groupCount > 1 && expertCount % groupCount !== 0) {
      fail(`${expertCount} experts do not split into ${groupCount} groups`);
    }
    if (groupCount > 1 && (groupUsed < 1 || groupUsed >= groupCount)) {
      fail(`${groupUsed} expert groups used out of ${groupCount}`);
    }
  } else if (groupCount !== 0) {
    fail(`${groupCount} expert groups but no experts`);
  }
}

/** An integer-typed scalar as a number (bigints become imprecise numbers, still out of range). */
function readInteger(metadata: ReadonlyMap<string, GgufKeyValue>, key: string): number | undefined {
  const entry = metadata.get(key);
  if (entry === undefined) return undefined;
  if (!integerTypes.has(entry.type)) {
    throw new GgufProblem(`${key} must be an integer, but it is a ${entry.type}`);
  }
  return Number(entry.value);
}

function readIntegerArray(entry: GgufKeyValue): number[] {
  if (entry.type !== "array") {
    if (!integerTypes.has(entry.type)) {
      throw new GgufProblem(`${entry.key} must be an integer, but it is a ${entry.type}`);
    }
    return [Number(entry.value)];
  }
  const elementType = entry.elementType ?? "array";
  if (!integerTypes.has(elementType) || isArraySummary(entry.value)) {
    throw new GgufProblem(`${entry.key} must be an integer or an array of at most ${maxLayers} integers`);
  }
  return (entry.value as readonly GgufMetadataValue[]).map((value) => Number(value as number | bigint));
}
