/**
 * Memory a model needs, from its GGUF header, split the way llama.cpp places it: weights per
 * layer (the last `gpuLayers` layers and then the output layer go to the device; the token
 * embeddings stay on the host), the KV cache of each layer beside its weights (f16, per
 * sequence), compute buffers, and the engine's own overhead. See docs/decisions/0010.
 */
import type { GgufInfo } from "../gguf/index.js";

const mebibyte = 1024 * 1024;
/** llama.cpp rounds each sequence's KV cells up to a multiple of this. */
const kvCellPadding = 256;
const f16Bytes = 2;
const f32Bytes = 4;
/**
 * Host memory the engine holds besides weights and buffers: vocabulary tables, ggml contexts,
 * the JavaScript side's copy of the GGUF metadata. Fitted to runner RSS measurements of
 * stories260K (vocab 512), the synthetic tiny model (vocab 512) and the synthetic 134M model
 * (vocab 32,000) — see test/model/memory-estimate.test.ts.
 */
const engineOverheadFixedBytes = 8 * mebibyte;
const engineOverheadPerVocabTokenBytes = 600;

export interface ModelMemoryShape {
  blockCount: number;
  embeddingLength: number;
  /** Per KV head: key and value widths (`attention.key_length`, else embedding ÷ heads). */
  keyLength: number;
  valueLength: number;
  headCountKv: number;
  vocabSize: number;
  trainContextTokens: number | undefined;
  /** Weight bytes of each block `blk.N.*`. */
  layerWeightBytes: number[];
  /** Token embeddings and other tensors that stay on the host. */
  inputWeightBytes: number;
  /** `output.weight` and `output_norm.weight`: the extra "layer" offloaded last. */
  outputWeightBytes: number;
}

export function memoryShapeOf(info: GgufInfo): ModelMemoryShape {
  const blockCount = info.blockCount ?? 0;
  const embeddingLength = info.embeddingLength ?? 0;
  const headCount = Math.max(1, info.headCount ?? 1);
  const numberAt = (key: string): number | undefined => {
    const value = info.metadata.get(`${info.architecture}.${key}`);
    return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : undefined;
  };
  const layerWeightBytes = new Array<number>(blockCount).fill(0);
  let inputWeightBytes = 0;
  let outputWeightBytes = 0;
  for (const tensor of info.tensors) {
    const block = /^blk\.(\d+)\./.exec(tensor.name);
    const index = block === null ? -1 : Number(block[1]);
    if (index >= 0 && index < blockCount) layerWeightBytes[index]! += tensor.bytes;
    else if (tensor.name.startsWith("output")) outputWeightBytes += tensor.bytes;
    else inputWeightBytes += tensor.bytes;
  }
  return {
    blockCount,
    embeddingLength,
    keyLength: numberAt("attention.key_length") ?? embeddingLength / headCount,
    valueLength: numberAt("attention.value_length") ?? embeddingLength / headCount,
    headCountKv: info.headCountKv ?? headCount,
    vocabSize: info.vocabSize ?? 0,
    trainContextTokens: info.contextLength,
    layerWeightBytes,
    inputWeightBytes,
    outputWeightBytes,
  };
}

/** The context a runner really creates: the asked-for size capped at the training context, at least 64. */
export function effectiveContextTokens(requested: number, trainContextTokens: number | undefined): number {
  return Math.max(
    64,
    Math.min(
      requested,
      trainContextTokens !== undefined && trainContextTokens > 0 ? trainContextTokens : requested,
    ),
  );
}

export interface MemoryEstimateOptions {
  /** Context tokens per sequence, already capped (effectiveContextTokens). */
  contextTokens: number;
  sequences: number;
  /** Tokens per llama_decode batch; the runner uses min(512, contextTokens). */
  batchTokens?: number;
  /** 0 = all on the host; blockCount + 1 = everything offloadable on the device. */
  gpuLayers: number;
}

export interface ModelMemoryEstimate {
  weightsBytes: number;
  kvCacheBytes: number;
  /** Reserved for the compute graph; mostly untouched by single-token decoding, so not resident at first. */
  computeBytes: number;
  overheadBytes: number;
  /** All of the above. */
  totalBytes: number;
  /** Part of the total that lives in GPU memory. */
  deviceBytes: number;
  /** Part of the total that lives in host RAM (mapped weights included). */
  hostBytes: number;
  /** Host memory expected to be resident once loaded: host weights, host KV cache, overhead. */
  residentBytes: number;
}

export function totalLayersOf(shape: ModelMemoryShape): number {
  return shape.blockCount + 1;
}

export function estimateModelMemory(
  shape: ModelMemoryShape,
  options: MemoryEstimateOptions,
): ModelMemoryEstimate {
  const gpuLayers = Math.max(0, Math.min(options.gpuLayers, totalLayersOf(shape)));
  const offloadedBlocks = Math.min(gpuLayers, shape.blockCount);
  const isOutputOffloaded = gpuLayers > shape.blockCount;
  const firstDeviceBlock = shape.blockCount - offloadedBlocks;
  const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
  const deviceLayerWeights = sum(shape.layerWeightBytes.slice(firstDeviceBlock));
  const hostLayerWeights = sum(shape.layerWeightBytes.slice(0, firstDeviceBlock));

  const cells = Math.ceil(options.contextTokens / kvCellPadding) * kvCellPadding * options.sequences;
  const kvPerLayer = (shape.keyLength + shape.valueLength) * shape.headCountKv * f16Bytes * cells;
  const deviceKv = kvPerLayer * offloadedBlocks;
  const hostKv = kvPerLayer * (shape.blockCount - offloadedBlocks);

  // Flash attention is on ("auto") for these backends, so no n_kv × batch attention matrix:
  // the largest buffers are the batch's logits and a few activations.
  const batchTokens = options.batchTokens ?? Math.min(512, options.contextTokens);
  const activations = 2 * shape.embeddingLength * batchTokens * f32Bytes;
  const logits = shape.vocabSize * batchTokens * f32Bytes;
  const outputBuffer = shape.vocabSize * f32Bytes * options.sequences;
  const deviceCompute = gpuLayers === 0 ? 0 : activations + (isOutputOffloaded ? logits : 0);
  const hostCompute =
    (gpuLayers === 0 ? activations + logits : activations + (isOutputOffloaded ? 0 : logits)) + outputBuffer;

  const overheadBytes = engineOverheadFixedBytes + engineOverheadPerVocabTokenBytes * shape.vocabSize;
  const hostWeights =
    shape.inputWeightBytes + hostLayerWeights + (isOutputOffloaded ? 0 : shape.outputWeightBytes);
  const deviceWeights = deviceLayerWeights + (isOutputOffloaded ? shape.outputWeightBytes : 0);
  const deviceBytes = deviceWeights + deviceKv + deviceCompute;
  const hostBytes = hostWeights + hostKv + hostCompute + overheadBytes;
  return {
    weightsBytes: hostWeights + deviceWeights,
    kvCacheBytes: deviceKv + hostKv,
    computeBytes: deviceCompute + hostCompute,
    overheadBytes,
    totalBytes: deviceBytes + hostBytes,
    deviceBytes,
    hostBytes,
    residentBytes: hostWeights + hostKv + overheadBytes,
  };
}
