import type { ChunkedFileReader } from "./chunked-file-reader.js";
import { maxTensorDimensions, maxTensorNameBytes } from "./gguf-format.js";
import { ggmlTypes, removedGgmlTypeIds, tensorByteCount } from "./ggml-types.js";
import { GgufProblem } from "./gguf-problem.js";
import { readString } from "./read-metadata.js";

export interface GgufTensorInfo {
  name: string;
  /** ggml order: `dims[0]` is the row length (ne0). */
  dims: readonly number[];
  /** ggml type name, e.g. "Q8_0". */
  type: string;
  /** Offset from the start of the tensor data section (`GgufInfo.tensorDataOffset`). */
  offset: number;
  elementCount: number;
  bytes: number;
}

/** Reads `count` tensor infos, checking each shape and type the way gguf.cpp does. */
export async function readTensorInfos(reader: ChunkedFileReader, count: number): Promise<GgufTensorInfo[]> {
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let index = 0; index < count; index++) {
    if (index % 1024 === 0) reader.checkAborted();
    const name = await readString(reader, maxTensorNameBytes, `the name of tensor ${index}`);
    if (names.has(name)) throw new GgufProblem(`tensor name "${name}" appears twice`);
    names.add(name);
    tensors.push(await readTensorShape(reader, name));
  }
  return tensors;
}

async function readTensorShape(reader: ChunkedFileReader, name: string): Promise<GgufTensorInfo> {
  await reader.need(4, `the dimension count of tensor "${name}"`);
  const dimensionCount = reader.readUint32();
  if (dimensionCount < 1 || dimensionCount > maxTensorDimensions) {
    throw new GgufProblem(
      `tensor "${name}" has ${dimensionCount} dimensions; ggml supports 1 to ${maxTensorDimensions}`,
    );
  }
  await reader.need(dimensionCount * 8 + 12, `the shape, type and offset of tensor "${name}"`);
  const dims: number[] = [];
  let elementCount = 1;
  for (let index = 0; index < dimensionCount; index++) {
    const dimension = reader.readUint64();
    if (dimension < 1n) throw new GgufProblem(`tensor "${name}" has a dimension of size 0`);
    elementCount *= Number(dimension);
    if (dimension > BigInt(Number.MAX_SAFE_INTEGER) || !Number.isSafeInteger(elementCount)) {
      throw new GgufProblem(`tensor "${name}" is too large: its element count passes 2^53`);
    }
    dims.push(Number(dimension));
  }
  const typeId = reader.readUint32();
  const type = ggmlTypes.get(typeId);
  if (type === undefined) {
    const removedName = removedGgmlTypeIds.get(typeId);
    throw new GgufProblem(
      removedName === undefined
        ? `tensor "${name}" has ggml type ${typeId}, which is not a known ggml type`
        : `tensor "${name}" has ggml type ${typeId} (${removedName}), which llama.cpp no longer supports in files`,
      removedName === undefined ? undefined : "Re-quantize the model with a current llama.cpp.",
    );
  }
  const rowLength = dims[0] ?? 1;
  if (rowLength % type.blockElements !== 0) {
    throw new GgufProblem(
      `tensor "${name}" of type ${type.name} has rows of ${rowLength} elements, not a multiple of its block size ${type.blockElements}`,
    );
  }
  const offset = reader.readUint64();
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new GgufProblem(`tensor "${name}" has a data offset of ${offset}, past any possible file size`);
  }
  return {
    name,
    dims,
    type: type.name,
    offset: Number(offset),
    elementCount,
    bytes: tensorByteCount(type, elementCount),
  };
}

export interface TensorLayout {
  tensorDataOffset: number;
  alignmentBytes: number;
  fileBytes: number;
}

/**
 * Every tensor must lie inside the file, start on the alignment, and (as gguf.cpp requires)
 * follow the previous tensor exactly, padded to the alignment: no overlaps and no gaps.
 */
export function checkTensorLayout(tensors: readonly GgufTensorInfo[], layout: TensorLayout): void {
  const { tensorDataOffset, alignmentBytes, fileBytes } = layout;
  let expectedOffset = 0;
  for (const tensor of tensors) {
    const fileOffset = tensorDataOffset + tensor.offset;
    if (fileOffset + tensor.bytes > fileBytes) {
      throw new GgufProblem(
        `tensor "${tensor.name}" data (offset ${fileOffset}, ${tensor.bytes} bytes) ends past the end of the file (size ${fileBytes})`,
      );
    }
    if (tensor.offset % alignmentBytes !== 0) {
      throw new GgufProblem(
        `tensor "${tensor.name}" data offset ${tensor.offset} is not a multiple of the alignment ${alignmentBytes}`,
      );
    }
    if (tensor.offset !== expectedOffset) {
      const relation =
        tensor.offset < expectedOffset
          ? "overlaps the tensor before it"
          : "leaves a gap after the tensor before it";
      throw new GgufProblem(
        `tensor "${tensor.name}" data offset ${tensor.offset} ${relation} (expected ${expectedOffset}); llama.cpp needs tensors stored in order`,
      );
    }
    expectedOffset += Math.ceil(tensor.bytes / alignmentBytes) * alignmentBytes;
  }
}
