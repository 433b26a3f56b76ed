import type { GgufWriteKeyValue, GgufWriteTensor } from "./gguf-encoding.js";
import { writeGguf, type WriteGgufOptions, type WrittenGguf } from "./gguf-writer.js";
import { createSyntheticVocabulary } from "./synthetic-vocabulary.js";
import { generateOnes, generateRandomWeights, type SyntheticTensorType } from "./synthetic-weights.js";

/** The shape of a random-weight llama model that node-llama-cpp can load and generate from. */
export interface LlamaModelShape {
  layers: number;
  embeddingLength: number;
  headCount: number;
  headCountKv: number;
  feedForwardLength: number;
  /** At least 260: 3 special tokens, 256 byte tokens, then letter pieces. */
  vocabSize: number;
  contextLength: number;
  /** Type of the 2-D weights; norms are always f32. q8_0 needs dimensions that are multiples of 32. */
  tensorType: "f32" | "f16" | "q8_0";
  /** Same shape and seed give a byte-identical file. */
  seed: number;
  /** `general.name`; default "synthetic-llama". */
  name?: string;
  /** `tokenizer.chat_template` (Jinja); none by default. */
  chatTemplate?: string;
}

const tensorTypes: Readonly<Record<LlamaModelShape["tensorType"], SyntheticTensorType>> = {
  f32: "F32",
  f16: "F16",
  q8_0: "Q8_0",
};
/** llama_ftype ids: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0. */
const fileTypeIds: Readonly<Record<LlamaModelShape["tensorType"], number>> = { f32: 0, f16: 1, q8_0: 7 };

export async function writeLlamaModel(path: string, shape: LlamaModelShape): Promise<WrittenGguf> {
  return writeGguf(path, createLlamaModelContents(shape));
}

/** Key/values and tensors of the model, with data as lazy generators; nothing is computed until written. */
export function createLlamaModelContents(shape: LlamaModelShape): WriteGgufOptions {
  checkShape(shape);
  const { layers, embeddingLength, headCount, headCountKv, feedForwardLength, vocabSize } = shape;
  const vocabulary = createSyntheticVocabulary(vocabSize);
  const uint32 = (key: string, value: number): GgufWriteKeyValue => ({ key, type: "uint32", value });
  const keyValues: GgufWriteKeyValue[] = [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.name", type: "string", value: shape.name ?? "synthetic-llama" },
    uint32("general.file_type", fileTypeIds[shape.tensorType]),
    uint32("general.alignment", 32),
    uint32("llama.context_length", shape.contextLength),
    uint32("llama.embedding_length", embeddingLength),
    uint32("llama.block_count", layers),
    uint32("llama.feed_forward_length", feedForwardLength),
    uint32("llama.attention.head_count", headCount),
    uint32("llama.attention.head_count_kv", headCountKv),
    uint32("llama.rope.dimension_count", embeddingLength / headCount),
    { key: "llama.attention.layer_norm_rms_epsilon", type: "float32", value: 1e-5 },
    uint32("llama.vocab_size", vocabSize),
    { key: "tokenizer.ggml.model", type: "string", value: "llama" },
    { key: "tokenizer.ggml.tokens", type: "array", elementType: "string", value: vocabulary.tokens },
    { key: "tokenizer.ggml.scores", type: "array", elementType: "float32", value: vocabulary.scores },
    { key: "tokenizer.ggml.token_type", type: "array", elementType: "int32", value: vocabulary.tokenTypes },
    uint32("tokenizer.ggml.bos_token_id", 1),
    uint32("tokenizer.ggml.eos_token_id", 2),
    uint32("tokenizer.ggml.unknown_token_id", 0),
    ...(shape.chatTemplate === undefined
      ? []
      : [{ key: "tokenizer.chat_template", type: "string" as const, value: shape.chatTemplate }]),
  ];
  const weightType = tensorTypes[shape.tensorType];
  const keyValueLength = (embeddingLength / headCount) * headCountKv;
  const tensors: GgufWriteTensor[] = [];
  const addWeight = (name: string, dims: readonly number[]): void => {
    const seed = (shape.seed + Math.imul(tensors.length + 1, 0x9e3779b9)) >>> 0;
    const elementCount = dims.reduce((product, dim) => product * dim, 1);
    tensors.push({
      name,
      dims,
      type: weightType,
      data: () => generateRandomWeights({ type: weightType, elementCount, seed }),
    });
  };
  const addNorm = (name: string): void => {
    tensors.push({ name, dims: [embeddingLength], type: "F32", data: () => generateOnes(embeddingLength) });
  };
  addWeight("token_embd.weight", [embeddingLength, vocabSize]);
  addNorm("output_norm.weight");
  addWeight("output.weight", [embeddingLength, vocabSize]);
  for (let layer = 0; layer < layers; layer++) {
    const block = `blk.${layer}`;
    addNorm(`${block}.attn_norm.weight`);
    addWeight(`${block}.attn_q.weight`, [embeddingLength, embeddingLength]);
    addWeight(`${block}.attn_k.weight`, [embeddingLength, keyValueLength]);
    addWeight(`${block}.attn_v.weight`, [embeddingLength, keyValueLength]);
    addWeight(`${block}.attn_output.weight`, [embeddingLength, embeddingLength]);
    addNorm(`${block}.ffn_norm.weight`);
    addWeight(`${block}.ffn_gate.weight`, [embeddingLength, feedForwardLength]);
    addWeight(`${block}.ffn_up.weight`, [embeddingLength, feedForwardLength]);
    addWeight(`${block}.ffn_down.weight`, [feedForwardLength, embeddingLength]);
  }
  return { version: 3, alignmentBytes: 32, keyValues, tensors };
}

function checkShape(shape: LlamaModelShape): void {
  const counts = [
    "layers",
    "embeddingLength",
    "headCount",
    "headCountKv",
    "feedForwardLength",
    "contextLength",
  ] as const;
  for (const field of counts) {
    if (!Number.isInteger(shape[field]) || shape[field] < 1) {
      throw new RangeError(`LlamaModelShape.${field} must be a positive integer, got ${shape[field]}.`);
    }
  }
  if (shape.embeddingLength % shape.headCount !== 0 || shape.headCount % shape.headCountKv !== 0) {
    throw new RangeError(
      "LlamaModelShape: headCount must divide embeddingLength, and headCountKv must divide headCount.",
    );
  }
  const isQ8Compatible = shape.embeddingLength % 32 === 0 && shape.feedForwardLength % 32 === 0;
  if (shape.tensorType === "q8_0" && !isQ8Compatible) {
    throw new RangeError(
      "LlamaModelShape: q8_0 needs embeddingLength and feedForwardLength divisible by 32.",
    );
  }
}
