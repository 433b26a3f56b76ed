import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { GgmlType, GgufFileType, readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toAppError } from "../core/index.js";
import { fileTypeLabel } from "./gguf-format.js";
import { ggmlTypes, readGgufHeader, syntheticModelShapes, writeLlamaModel, type GgufInfo } from "./index.js";

const storiesPath = resolve(process.cwd(), "../shared/models/stories260K.gguf");

/** node-llama-cpp nests metadata by dotted key; flatten it back to compare key by key. */
function flatten(value: unknown, prefix = "", into = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into.set(prefix, value);
  }
  return into;
}

function comparable(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return { length: value.length, head: value.slice(0, 64).map(comparable) };
  if (typeof value === "object" && value !== null && "length" in value) return { length: value.length };
  return value;
}

/** Checks our header against node-llama-cpp's own parser on the same file. */
async function expectSameAsNodeLlamaCpp(info: GgufInfo): Promise<void> {
  const reference = await readGgufFileInfo(info.path, { logWarnings: false });
  const referenceMetadata = flatten(reference.metadata);
  expect([...info.metadata.keys()].sort()).toEqual([...referenceMetadata.keys()].sort());
  for (const [key, value] of info.metadata) {
    const expected = comparable(referenceMetadata.get(key));
    const actual = comparable(value);
    if (typeof actual === "object" && actual !== null && !("head" in actual)) {
      expect(actual, key).toEqual({ length: (expected as { length: number }).length });
    } else {
      expect(actual, key).toEqual(expected);
    }
  }
  const referenceTensors = reference.tensorInfo ?? [];
  expect(info.tensors.map((tensor) => tensor.name)).toEqual(referenceTensors.map((tensor) => tensor.name));
  info.tensors.forEach((tensor, index) => {
    const expected = referenceTensors[index]!;
    expect(tensor.dims).toEqual(expected.dimensions.map(Number));
    expect(tensor.type).toBe(GgmlType[expected.ggmlType]);
    expect(tensor.offset).toBe(Number(expected.offset));
    expect(info.tensorDataOffset + tensor.offset).toBe(Number(expected.fileOffset));
  });
}

describe("readGgufHeader on stories260K", () => {
  it("reads the architecture and hyper-parameters", async () => {
    const info = await readGgufHeader(storiesPath);
    expect(info).toMatchObject({
      version: 3,
      architecture: "llama",
      name: "llama",
      alignmentBytes: 32,
      contextLength: 2048,
      embeddingLength: 64,
      blockCount: 5,
      headCount: 8,
      headCountKv: 4,
      feedForwardLength: 172,
      vocabSize: 512,
      fileType: undefined,
      dominantTensorType: "F32",
      quantization: "F32",
      chatTemplate: undefined,
      bosTokenId: 1,
      eosTokenId: 2,
    });
    expect(info.parameterCount).toBeGreaterThan(250_000);
    expect(info.parameterCount).toBeLessThan(300_000);
    expect(info.tensorBytes).toBe(info.parameterCount * 4);
    expect(info.tensors).toHaveLength(48);
    expect(info.metadata.get("tokenizer.ggml.tokens")).toEqual({
      type: "array",
      elementType: "string",
      length: 512,
    });
  });

  it("agrees with node-llama-cpp's parser", async () => {
    await expectSameAsNodeLlamaCpp(await readGgufHeader(storiesPath));
  });

  it("stops when the signal is already aborted", async () => {
    const reading = readGgufHeader(storiesPath, { signal: AbortSignal.abort() });
    await expect(reading).rejects.toMatchObject({ name: "AbortError" });
  });

  it("stops between chunks when the signal aborts while reading, as a cancellation", async () => {
    const controller = new AbortController();
    const reading = readGgufHeader(storiesPath, {
      signal: controller.signal,
      limits: { readChunkBytes: 64 },
    });
    controller.abort(new Error("client went away"));
    const error: unknown = await reading.catch((rejection: unknown) => rejection);
    expect(error).toMatchObject({ name: "AbortError", cause: new Error("client went away") });
    expect(toAppError(error).code).toBe("cancelled");
  });

  it("reads in small chunks the same as in one", async () => {
    const small = await readGgufHeader(storiesPath, { limits: { readChunkBytes: 64 } });
    const large = await readGgufHeader(storiesPath, { limits: { readChunkBytes: 4 * 1024 * 1024 } });
    expect(small).toEqual(large);
  });
});

describe("readGgufHeader on the synthetic 134M model", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "rawrxd-gguf-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("reads the header of a 143 MB Q8_0 model without reading its data", async () => {
    const path = join(directory, "llama-134m.gguf");
    await writeLlamaModel(path, syntheticModelShapes["llama-134m"]);
    const info = await readGgufHeader(path);
    expect(info).toMatchObject({
      architecture: "llama",
      name: "synthetic-llama-134m",
      contextLength: 2048,
      embeddingLength: 768,
      blockCount: 12,
      headCount: 12,
      feedForwardLength: 2048,
      vocabSize: 32_000,
      fileType: "Q8_0",
      dominantTensorType: "Q8_0",
      quantization: "Q8_0",
    });
    expect(info.parameterCount).toBeGreaterThan(133_000_000);
    expect(info.parameterCount).toBeLessThan(135_000_000);
    expect(info.fileBytes).toBeGreaterThan(140_000_000);
    expect(info.fileBytes).toBeLessThan(146_000_000);
    await expectSameAsNodeLlamaCpp(info);
  });
});

describe("type tables", () => {
  it("match node-llama-cpp's GgmlType ids and names", () => {
    for (const type of ggmlTypes.values()) expect(GgmlType[type.id]).toBe(type.name);
  });

  it("label every llama_ftype node-llama-cpp knows", () => {
    for (const [name, id] of Object.entries(GgufFileType)) {
      if (typeof id !== "number") continue;
      expect(fileTypeLabel(id)).toBe(name.replace(/^(MOSTLY|ALL)_/, ""));
    }
    expect(fileTypeLabel(15)).toBe("Q4_K_M");
    expect(fileTypeLabel(999)).toBe("unknown (999)");
  });
});
