import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, systemTime } from "../core/index.js";
import {
  createLlamaModelContents,
  readGgufHeader,
  writeGguf,
  type GgufLimits,
  type GgufWriteKeyValue,
  type GgufWriteTensor,
  type WriteGgufOptions,
} from "./index.js";

/** A valid 1-layer model of about 70 KB: each case below breaks one thing in it. */
const valid = createLlamaModelContents({
  layers: 1,
  embeddingLength: 32,
  headCount: 2,
  headCountKv: 2,
  feedForwardLength: 32,
  vocabSize: 260,
  contextLength: 64,
  tensorType: "f32",
  seed: 7,
});

function withKeyValue(entry: GgufWriteKeyValue): WriteGgufOptions {
  const others = valid.keyValues.filter((existing) => existing.key !== entry.key);
  return { ...valid, keyValues: [...others, entry] };
}
const withUint32 = (key: string, value: number): WriteGgufOptions =>
  withKeyValue({ key, type: "uint32", value });
function withoutKey(key: string): WriteGgufOptions {
  return { ...valid, keyValues: valid.keyValues.filter((entry) => entry.key !== key) };
}
function withKeyPatch(key: string, patch: Partial<GgufWriteKeyValue>): WriteGgufOptions {
  return {
    ...valid,
    keyValues: valid.keyValues.map((entry) => (entry.key === key ? { ...entry, ...patch } : entry)),
  };
}
function withTensorPatch(index: number, patch: Partial<GgufWriteTensor>): WriteGgufOptions {
  return {
    ...valid,
    tensors: valid.tensors!.map((tensor, at) => (at === index ? { ...tensor, ...patch } : tensor)),
  };
}
const lastTensor = valid.tensors!.length - 1;

interface MalformedCase {
  name: string;
  contents: WriteGgufOptions;
  problem: string;
  limits?: Partial<GgufLimits>;
}

const cases: MalformedCase[] = [
  { name: "wrong magic", contents: { ...valid, magic: "GGML" }, problem: 'instead of "GGUF"' },
  { name: "version 99", contents: { ...valid, version: 99 }, problem: "GGUF version 99;" },
  { name: "version 1", contents: { ...valid, version: 1 }, problem: "GGUF version 1," },
  { name: "big-endian version", contents: { ...valid, version: 0x03000000 }, problem: "big-endian" },
  {
    name: "2^60 tensors",
    contents: { keyValues: [], tensorCountOverride: 2n ** 60n },
    problem: "claims 1152921504606846976 tensors, more than the limit of 65536",
  },
  {
    name: "2^60 metadata entries",
    contents: { ...valid, keyValueCountOverride: 2n ** 60n },
    problem: "claims 1152921504606846976 metadata entries",
  },
  {
    name: "more tensors than the file can hold",
    contents: { ...valid, tensorCountOverride: 60_000n },
    problem: "claims 60000 tensors, which cannot fit",
  },
  {
    name: "key length 2^62",
    contents: withKeyPatch("general.architecture", { keyLengthOverride: 2n ** 62n }),
    problem: "the key of metadata entry 0 claims a length of 4611686018427387904",
  },
  {
    name: "string length 2^62",
    contents: withKeyPatch("general.name", { lengthOverride: 2n ** 62n }),
    problem: 'the string value of "general.name" claims a length of 4611686018427387904, more than the limit',
  },
  {
    name: "string past the end of the file",
    contents: withKeyPatch("general.name", { lengthOverride: 1_000_000n }),
    problem: 'inside the string value of "general.name"',
  },
  {
    name: "array length 2^40",
    contents: withKeyPatch("tokenizer.ggml.scores", { lengthOverride: 2n ** 40n }),
    problem: 'the array value of "tokenizer.ggml.scores" claims a length of 1099511627776',
  },
  {
    name: "array past the end of the file",
    contents: withKeyPatch("tokenizer.ggml.scores", { lengthOverride: 10_000_000n }),
    problem: "claims 10000000 float32 elements (at least 40000000 bytes)",
  },
  {
    name: "value type 13",
    contents: withKeyPatch("general.name", { typeIdOverride: 13 }),
    problem: 'the value type of "general.name" is 13, which is not a GGUF value type',
  },
  {
    name: "arrays nested past the limit",
    contents: valid,
    limits: { maxArrayDepth: 0 },
    problem: "nests arrays deeper than the limit of 0",
  },
  {
    name: "alignment 48",
    contents: withUint32("general.alignment", 48),
    problem: "48, which is not a power of two",
  },
  {
    name: "alignment as uint64",
    contents: withKeyValue({ key: "general.alignment", type: "uint64", value: 32n }),
    problem: '"general.alignment" must be a uint32',
  },
  {
    name: "no architecture",
    contents: withoutKey("general.architecture"),
    problem: 'no "general.architecture"',
  },
  {
    name: "architecture not a string",
    contents: withKeyValue({ key: "general.architecture", type: "uint32", value: 1 }),
    problem: '"general.architecture" must be a non-empty string',
  },
  {
    name: "duplicate key",
    contents: { ...valid, keyValues: [...valid.keyValues, valid.keyValues[1]!] },
    problem: 'metadata key "general.name" appears twice',
  },
  {
    name: "empty key",
    contents: { ...valid, keyValues: [...valid.keyValues, { key: "", type: "uint8", value: 1 }] },
    problem: "has an empty key",
  },
  {
    name: "duplicate tensor name",
    contents: withTensorPatch(1, { name: "token_embd.weight" }),
    problem: 'tensor name "token_embd.weight" appears twice',
  },
  {
    name: "tensor name of 64 bytes",
    contents: withTensorPatch(0, { name: "x".repeat(64) }),
    problem: "the name of tensor 0 claims a length of 64, more than the limit of 63",
  },
  {
    name: "ndims 100",
    contents: withTensorPatch(0, { dimensionCountOverride: 100 }),
    problem: 'tensor "token_embd.weight" has 100 dimensions; ggml supports 1 to 4',
  },
  {
    name: "ndims 0",
    contents: withTensorPatch(0, { dimensionCountOverride: 0 }),
    problem: "has 0 dimensions",
  },
  {
    name: "tensor type 999",
    contents: withTensorPatch(0, { typeIdOverride: 999 }),
    problem: 'tensor "token_embd.weight" has ggml type 999, which is not a known ggml type',
  },
  {
    name: "removed tensor type",
    contents: withTensorPatch(0, { typeIdOverride: 31 }),
    problem: "ggml type 31 (Q4_0_4_4), which llama.cpp no longer supports",
  },
  {
    name: "dimension 0",
    contents: withTensorPatch(0, { dimsOverride: [32n, 0n] }),
    problem: "has a dimension of size 0",
  },
  {
    name: "element count past 2^53",
    contents: withTensorPatch(0, { dimsOverride: [2n ** 30n, 2n ** 30n] }),
    problem: "its element count passes 2^53",
  },
  {
    name: "row not a multiple of the block size",
    contents: withTensorPatch(1, { typeIdOverride: 12 }),
    problem:
      'tensor "output_norm.weight" of type Q4_K has rows of 32 elements, not a multiple of its block size 256',
  },
  {
    name: "tensor data offset past EOF",
    contents: withTensorPatch(lastTensor, { offsetOverride: 2n ** 40n }),
    problem: "ends past the end of the file",
  },
  {
    name: "misaligned tensor offset",
    contents: withTensorPatch(1, { offsetOverride: 16n }),
    problem: "data offset 16 is not a multiple of the alignment 32",
  },
  {
    name: "overlapping tensors",
    contents: withTensorPatch(1, { offsetOverride: 0n }),
    problem: 'tensor "output_norm.weight" data offset 0 overlaps the tensor before it',
  },
  {
    name: "truncated tensor data",
    contents: { ...valid, truncateAtByte: 60_000 },
    problem: "ends past the end of the file",
  },
  {
    name: "truncated inside the vocabulary",
    contents: { ...valid, truncateAtByte: 1000 },
    problem:
      'the array value of "tokenizer.ggml.tokens" claims 260 string elements (at least 2080 bytes) at offset 635, past the end of the file (size 1000)',
  },
  {
    name: "truncated inside a token",
    contents: { ...valid, truncateAtByte: 3000 },
    problem: `the file ends (size 3000 bytes) inside the length of a token in "tokenizer.ggml.tokens" (index`,
  },
  { name: "head_count=0", contents: withUint32("llama.attention.head_count", 0), problem: "head_count is 0" },
  {
    name: "head_count_kv=0",
    contents: withUint32("llama.attention.head_count_kv", 0),
    problem: "head_count_kv is 0",
  },
  {
    name: "block_count=1000",
    contents: withUint32("llama.block_count", 1000),
    problem: "llama.block_count is 1000, but llama.cpp supports 1 to 512 layers",
  },
  { name: "block_count=0", contents: withUint32("llama.block_count", 0), problem: "llama.block_count is 0" },
  {
    name: "block_count as a string",
    contents: withKeyValue({ key: "llama.block_count", type: "string", value: "1" }),
    problem: "llama.block_count must be an integer, but it is a string",
  },
  {
    name: "embedding_length=0",
    contents: withUint32("llama.embedding_length", 0),
    problem: "llama.embedding_length is 0",
  },
  {
    name: "feed_forward_length=0",
    contents: withUint32("llama.feed_forward_length", 0),
    problem: "llama.feed_forward_length is 0",
  },
  {
    name: "per-layer head_count_kv of 0 in an attention layer",
    contents: withKeyValue({
      key: "llama.attention.head_count_kv",
      type: "array",
      elementType: "int32",
      value: [0],
    }),
    problem: "head_count_kv is 0 for layer 0, which has attn_q/attn_k/attn_v/attn_qkv weights",
  },
  {
    name: "per-layer head_count of the wrong length",
    contents: withKeyValue({
      key: "llama.attention.head_count",
      type: "array",
      elementType: "int32",
      value: [2, 2],
    }),
    problem: "has 2 per-layer values but there are 1 layers",
  },
  {
    name: "experts with none used",
    contents: withUint32("llama.expert_count", 4),
    problem: "4 experts but none used per token",
  },
  {
    name: "unknown rope scaling",
    contents: withKeyValue({ key: "llama.rope.scaling.type", type: "string", value: "foo" }),
    problem: 'rope.scaling.type is "foo"',
  },
  {
    name: "more nextn layers than layers",
    contents: withUint32("llama.nextn_predict_layers", 2),
    problem: "nextn_predict_layers is 2, more than llama.block_count (1)",
  },
  {
    name: "header over the limit",
    contents: valid,
    limits: { maxHeaderBytes: 100 },
    problem: "the header runs past 100 bytes",
  },
];

describe("readGgufHeader rejects malformed files", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "rawrxd-gguf-malformed-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function expectInvalid(path: string, problem: string, limits?: Partial<GgufLimits>): Promise<void> {
    const startMs = systemTime.monotonicNow();
    const error: unknown = await readGgufHeader(path, { limits }).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(systemTime.monotonicNow() - startMs).toBeLessThan(1000);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "model-invalid" });
    expect((error as AppError).message).toContain(`Model file ${path} is not a valid GGUF: `);
    expect((error as AppError).message).toContain(problem);
  }

  it("accepts the unbroken file", async () => {
    const path = join(directory, "valid.gguf");
    await writeGguf(path, valid);
    await expect(readGgufHeader(path)).resolves.toMatchObject({ architecture: "llama", blockCount: 1 });
  });

  it.each(cases)("$name", async ({ name, contents, problem, limits }) => {
    const path = join(directory, `${name.replace(/[^a-z0-9]+/gi, "-")}.gguf`);
    await writeGguf(path, contents);
    await expectInvalid(path, problem, limits);
  });

  it("rejects an empty file", async () => {
    const path = join(directory, "empty.gguf");
    await writeFile(path, new Uint8Array(0));
    await expectInvalid(path, "the file ends (size 0 bytes) inside the GGUF magic");
  });

  it("rejects a directory", async () => {
    const path = join(directory, "directory.gguf");
    await mkdir(path);
    await expectInvalid(path, "it is a directory, not a regular file");
  });

  it("reports a missing file as model-not-found", async () => {
    await expect(readGgufHeader(join(directory, "missing.gguf"))).rejects.toMatchObject({
      code: "model-not-found",
    });
  });

  it("rejects the file truncated at every boundary of its header", async () => {
    const bytes = await readFile(join(directory, "valid.gguf"));
    const path = join(directory, "cut.gguf");
    for (const length of [3, 4, 8, 16, 23, 24, 40, 200, 2000, 5000, 6000, bytes.length - 1]) {
      await writeFile(path, bytes.subarray(0, length));
      await expect(readGgufHeader(path), `cut at ${length}`).rejects.toMatchObject({ code: "model-invalid" });
    }
  });

  it("never fails with anything but model-invalid when header bytes are corrupted", async () => {
    const bytes = await readFile(join(directory, "valid.gguf"));
    const info = await readGgufHeader(join(directory, "valid.gguf"));
    const path = join(directory, "corrupt.gguf");
    let state = 12345;
    const random = (limit: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % limit;
    };
    for (let round = 0; round < 300; round++) {
      const corrupted = Buffer.from(bytes);
      for (let flip = 0; flip < 1 + random(4); flip++) {
        corrupted[random(info.tensorDataOffset)] = random(256);
      }
      await writeFile(path, corrupted);
      const outcome = await readGgufHeader(path).then(
        () => "valid",
        (error: unknown) => (error instanceof AppError ? error.code : String(error)),
      );
      expect(["valid", "model-invalid"], `round ${round}`).toContain(outcome);
    }
  });
});
