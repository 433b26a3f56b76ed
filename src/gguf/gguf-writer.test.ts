import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { float16BitsToFloat32, float32ToFloat16Bits } from "./float16.js";
import {
  ensureSyntheticModel,
  measureGguf,
  readGgufHeader,
  syntheticModelShapes,
  writeGguf,
  writeLlamaModel,
  type GgufWriteKeyValue,
  type GgufWriteTensor,
} from "./index.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "rawrxd-gguf-writer-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

function bytesOf(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 31 + seed) & 0xff);
}

describe("writeGguf", () => {
  const keyValues: GgufWriteKeyValue[] = [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.alignment", type: "uint32", value: 64 },
    { key: "test.uint8", type: "uint8", value: 200 },
    { key: "test.int8", type: "int8", value: -100 },
    { key: "test.uint16", type: "uint16", value: 60_000 },
    { key: "test.int16", type: "int16", value: -30_000 },
    { key: "test.uint32", type: "uint32", value: 4_000_000_000 },
    { key: "test.int32", type: "int32", value: -2_000_000_000 },
    { key: "test.float32", type: "float32", value: 0.1 },
    { key: "test.bool", type: "bool", value: true },
    { key: "test.string", type: "string", value: "héllo ▁wörld" },
    { key: "test.uint64", type: "uint64", value: 2n ** 60n },
    { key: "test.int64", type: "int64", value: -12n },
    { key: "test.float64", type: "float64", value: Math.PI },
    { key: "test.strings", type: "array", elementType: "string", value: ["a", "", "ü"] },
    { key: "test.floats", type: "array", elementType: "float32", value: new Float32Array([1.5, -2]) },
    { key: "test.bools", type: "array", elementType: "bool", value: [true, false] },
    { key: "test.long", type: "array", elementType: "int32", value: new Int32Array(100) },
  ];
  const tensors: GgufWriteTensor[] = [
    { name: "a.f32", dims: [3, 2], type: "F32", data: bytesOf(24, 1) },
    { name: "b.f16", dims: [5], type: "F16", data: bytesOf(10, 2) },
    { name: "c.q8_0", dims: [64, 2], type: "Q8_0", data: () => [bytesOf(100, 3), bytesOf(36, 4)] },
    { name: "d.q4_k", dims: [256, 1, 1, 2], type: "Q4_K" },
    { name: "e.i32", dims: [7], type: "I32", data: bytesOf(28, 5) },
  ];

  it("round-trips every value type and tensor through readGgufHeader", async () => {
    const path = join(directory, "round-trip.gguf");
    const written = await writeGguf(path, { keyValues, tensors, version: 2 });
    expect(written.fileBytes).toBe((await stat(path)).size);
    expect(written.fileBytes).toBe(measureGguf({ keyValues, tensors, version: 2 }));
    const info = await readGgufHeader(path);
    expect(info.version).toBe(2);
    expect(info.alignmentBytes).toBe(64);
    expect(info.tensorDataOffset % 64).toBe(0);
    expect(Object.fromEntries(info.metadata)).toEqual({
      "general.architecture": "llama",
      "general.alignment": 64,
      "test.uint8": 200,
      "test.int8": -100,
      "test.uint16": 60_000,
      "test.int16": -30_000,
      "test.uint32": 4_000_000_000,
      "test.int32": -2_000_000_000,
      "test.float32": Math.fround(0.1),
      "test.bool": true,
      "test.string": "héllo ▁wörld",
      "test.uint64": 2n ** 60n,
      "test.int64": -12,
      "test.float64": Math.PI,
      "test.strings": ["a", "", "ü"],
      "test.floats": [1.5, -2],
      "test.bools": [true, false],
      "test.long": { type: "array", elementType: "int32", length: 100 },
    });
    expect(info.tensors.map(({ name, dims, type, bytes }) => ({ name, dims, type, bytes }))).toEqual([
      { name: "a.f32", dims: [3, 2], type: "F32", bytes: 24 },
      { name: "b.f16", dims: [5], type: "F16", bytes: 10 },
      { name: "c.q8_0", dims: [64, 2], type: "Q8_0", bytes: 136 },
      { name: "d.q4_k", dims: [256, 1, 1, 2], type: "Q4_K", bytes: 288 },
      { name: "e.i32", dims: [7], type: "I32", bytes: 28 },
    ]);
    expect(info.parameterCount).toBe(6 + 5 + 128 + 512 + 7);
    expect(info.dominantTensorType).toBe("Q4_K");

    const handle = await open(path, "r");
    try {
      const readTensor = async (index: number): Promise<Uint8Array> => {
        const tensor = info.tensors[index]!;
        const buffer = Buffer.alloc(tensor.bytes);
        await handle.read(buffer, 0, tensor.bytes, info.tensorDataOffset + tensor.offset);
        return new Uint8Array(buffer);
      };
      expect(await readTensor(0)).toEqual(bytesOf(24, 1));
      expect(await readTensor(2)).toEqual(new Uint8Array([...bytesOf(100, 3), ...bytesOf(36, 4)]));
      expect(await readTensor(3)).toEqual(new Uint8Array(288));
      expect(await readTensor(4)).toEqual(bytesOf(28, 5));
    } finally {
      await handle.close();
    }
  });

  it("refuses tensor data of the wrong size", async () => {
    const wrong: GgufWriteTensor = { name: "x", dims: [4], type: "F32", data: new Uint8Array(15) };
    await expect(writeGguf(join(directory, "wrong.gguf"), { keyValues, tensors: [wrong] })).rejects.toThrow(
      'tensor "x" got 15 bytes of data, but its shape and type need 16',
    );
  });
});

describe("writeLlamaModel", () => {
  it("is deterministic: same shape and seed give the same bytes, another seed other bytes", async () => {
    const first = join(directory, "tiny-1.gguf");
    const second = join(directory, "tiny-2.gguf");
    const reseeded = join(directory, "tiny-3.gguf");
    await writeLlamaModel(first, syntheticModelShapes.tiny);
    await writeLlamaModel(second, syntheticModelShapes.tiny);
    await writeLlamaModel(reseeded, { ...syntheticModelShapes.tiny, seed: 2 });
    expect(await sha256(first)).toBe(await sha256(second));
    expect(await sha256(first)).not.toBe(await sha256(reseeded));
  });

  it("writes the shape it was given, in f16 too", async () => {
    const path = join(directory, "tiny-f16.gguf");
    const shape = { ...syntheticModelShapes.tiny, headCountKv: 2, tensorType: "f16" as const, name: "half" };
    await writeLlamaModel(path, shape);
    const info = await readGgufHeader(path);
    expect(info).toMatchObject({
      name: "half",
      headCount: 4,
      headCountKv: 2,
      fileType: "F16",
      vocabSize: 512,
    });
    expect(info.tensors.find((tensor) => tensor.name === "blk.0.attn_k.weight")).toMatchObject({
      dims: [64, 32],
      type: "F16",
    });
    expect(info.tensors.find((tensor) => tensor.name === "blk.1.ffn_norm.weight")?.type).toBe("F32");
    expect(info.metadata.get("llama.rope.dimension_count")).toBe(16);
  });

  it("rejects shapes llama.cpp could not use", async () => {
    const path = join(directory, "bad-shape.gguf");
    await expect(writeLlamaModel(path, { ...syntheticModelShapes.tiny, headCount: 3 })).rejects.toThrow(
      "headCount must divide embeddingLength",
    );
    await expect(
      writeLlamaModel(path, { ...syntheticModelShapes.tiny, embeddingLength: 48, tensorType: "q8_0" }),
    ).rejects.toThrow("q8_0 needs");
  });
});

describe("ensureSyntheticModel", () => {
  it("writes the preset once and reuses it while its size is right", async () => {
    const cache = join(directory, "models");
    const path = await ensureSyntheticModel("tiny", cache);
    expect(path).toBe(join(cache, "synthetic-tiny.gguf"));
    const firstWrite = (await stat(path)).mtimeMs;
    expect(await ensureSyntheticModel("tiny", cache)).toBe(path);
    expect((await stat(path)).mtimeMs).toBe(firstWrite);
    await writeFile(path, "partial");
    await ensureSyntheticModel("tiny", cache);
    await expect(readGgufHeader(path)).resolves.toMatchObject({ name: "synthetic-tiny" });
  });
});

describe("float32ToFloat16Bits", () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [65504, 0x7bff],
    [65520, 0x7c00],
    [2 ** -24, 0x0001],
    [2 ** -26, 0x0000],
    [2 ** -14, 0x0400],
    [Infinity, 0x7c00],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
  ])("%f → %i", (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it("round-trips every finite half", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >>> 10) & 0x1f;
      if (exponent === 0x1f || bits === 0x8000) continue;
      expect(float32ToFloat16Bits(float16BitsToFloat32(bits))).toBe(bits);
    }
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
  });
});
