import { ggufValueTypeId, type GgufValueTypeName } from "./gguf-format.js";
import { findGgmlTypeByName, tensorByteCount, type GgmlType } from "./ggml-types.js";

/** A scalar, or the elements of an array value (typed arrays encode without boxing). */
export type GgufWriteValue =
  | number
  | bigint
  | boolean
  | string
  | readonly (number | bigint | boolean | string)[]
  | Float32Array
  | Int32Array
  | Uint32Array;

export interface GgufWriteKeyValue {
  key: string;
  type: GgufValueTypeName;
  /** Required when `type` is "array". Nested arrays are not written. */
  elementType?: GgufValueTypeName;
  value: GgufWriteValue;
  /** Malformation: the key length written instead of the real one. */
  keyLengthOverride?: bigint;
  /** Malformation: the string byte length or array element count written instead of the real one. */
  lengthOverride?: bigint;
  /** Malformation: the value type id written instead of `type`'s. */
  typeIdOverride?: number;
}

export interface GgufWriteTensor {
  name: string;
  /** ggml order: `dims[0]` is the row length. */
  dims: readonly number[];
  /** ggml type name, e.g. "F32", "Q8_0". */
  type: string;
  /** The tensor bytes, or a function yielding them in chunks; zeros when absent. */
  data?: Uint8Array | (() => Iterable<Uint8Array>);
  /** Malformation: the ggml type id written instead of `type`'s. */
  typeIdOverride?: number;
  /** Malformation: the dimension count written (the real dims follow). */
  dimensionCountOverride?: number;
  /** Malformation: the dimensions written instead of `dims` (the data still follows `dims`). */
  dimsOverride?: readonly bigint[];
  /** Malformation: the data offset written instead of the real one. */
  offsetOverride?: bigint;
}

export interface GgufHeaderContents {
  /** Default 3. */
  version?: number;
  /** Default 32, or `general.alignment` when the key-values set it. */
  alignmentBytes?: number;
  keyValues: readonly GgufWriteKeyValue[];
  tensors?: readonly GgufWriteTensor[];
  /** Malformation: the four magic bytes. */
  magic?: string;
  /** Malformation: the tensor count written instead of the real one. */
  tensorCountOverride?: bigint;
  /** Malformation: the key/value count written instead of the real one. */
  keyValueCountOverride?: bigint;
}

/** Little-endian append-only bytes that grow as needed. */
class ByteWriter {
  private bytes = Buffer.alloc(64 * 1024);
  length = 0;

  private reserve(byteCount: number): number {
    if (this.length + byteCount > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(this.bytes.length * 2, this.length + byteCount));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    const start = this.length;
    this.length += byteCount;
    return start;
  }
  // The offset is reserved before `this.bytes` is read: reserving may replace the buffer.
  private put(byteCount: number, write: (bytes: Buffer, offset: number) => unknown): void {
    const offset = this.reserve(byteCount);
    write(this.bytes, offset);
  }
  uint8(value: number): void {
    this.put(1, (bytes, offset) => bytes.writeUInt8(value, offset));
  }
  int8(value: number): void {
    this.put(1, (bytes, offset) => bytes.writeInt8(value, offset));
  }
  uint16(value: number): void {
    this.put(2, (bytes, offset) => bytes.writeUInt16LE(value, offset));
  }
  int16(value: number): void {
    this.put(2, (bytes, offset) => bytes.writeInt16LE(value, offset));
  }
  uint32(value: number): void {
    this.put(4, (bytes, offset) => bytes.writeUInt32LE(value, offset));
  }
  int32(value: number): void {
    this.put(4, (bytes, offset) => bytes.writeInt32LE(value, offset));
  }
  uint64(value: bigint | number): void {
    this.put(8, (bytes, offset) => bytes.writeBigUInt64LE(BigInt(value), offset));
  }
  int64(value: bigint | number): void {
    this.put(8, (bytes, offset) => bytes.writeBigInt64LE(BigInt(value), offset));
  }
  float32(value: number): void {
    this.put(4, (bytes, offset) => bytes.writeFloatLE(value, offset));
  }
  float64(value: number): void {
    this.put(8, (bytes, offset) => bytes.writeDoubleLE(value, offset));
  }
  raw(value: Uint8Array): void {
    this.put(value.length, (bytes, offset) => bytes.set(value, offset));
  }
  string(value: string, lengthOverride?: bigint): void {
    const encoded = Buffer.from(value, "utf8");
    this.uint64(lengthOverride ?? BigInt(encoded.length));
    this.raw(encoded);
  }
  toBytes(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

export interface GgufLayout {
  header: Uint8Array;
  alignmentBytes: number;
  tensorDataOffset: number;
  tensors: readonly { tensor: GgufWriteTensor; offset: number; bytes: number }[];
  fileBytes: number;
}

/** Encodes the header and places every tensor, without touching tensor data. */
export function planGgufLayout(contents: GgufHeaderContents): GgufLayout {
  const alignmentKey = contents.keyValues.find((entry) => entry.key === "general.alignment");
  const alignmentBytes =
    contents.alignmentBytes ?? (typeof alignmentKey?.value === "number" ? alignmentKey.value : 32);
  const tensors = contents.tensors ?? [];
  let nextOffset = 0;
  const placed = tensors.map((tensor) => {
    const type = requireType(tensor.type);
    if ((tensor.dims[0] ?? 1) % type.blockElements !== 0) {
      throw new Error(
        `writeGguf: tensor "${tensor.name}" rows must be a multiple of ${type.blockElements} for ${type.name}`,
      );
    }
    const bytes = tensorByteCount(
      type,
      tensor.dims.reduce((product, dim) => product * dim, 1),
    );
    const offset = nextOffset;
    nextOffset += Math.ceil(bytes / alignmentBytes) * alignmentBytes;
    return { tensor, offset, bytes };
  });
  const writer = new ByteWriter();
  writer.raw(Buffer.from(contents.magic ?? "GGUF", "latin1"));
  writer.uint32(contents.version ?? 3);
  writer.uint64(contents.tensorCountOverride ?? BigInt(tensors.length));
  writer.uint64(contents.keyValueCountOverride ?? BigInt(contents.keyValues.length));
  for (const entry of contents.keyValues) writeKeyValue(writer, entry);
  for (const { tensor, offset } of placed) {
    writer.string(tensor.name);
    writer.uint32(tensor.dimensionCountOverride ?? tensor.dims.length);
    for (const dim of tensor.dimsOverride ?? tensor.dims) writer.uint64(dim);
    writer.uint32(tensor.typeIdOverride ?? requireType(tensor.type).id);
    writer.uint64(tensor.offsetOverride ?? BigInt(offset));
  }
  const header = writer.toBytes();
  const tensorDataOffset =
    tensors.length === 0 ? header.length : Math.ceil(header.length / alignmentBytes) * alignmentBytes;
  const last = placed.at(-1);
  const fileBytes = last === undefined ? tensorDataOffset : tensorDataOffset + last.offset + last.bytes;
  return { header, alignmentBytes, tensorDataOffset, tensors: placed, fileBytes };
}

function requireType(name: string): GgmlType {
  const type = findGgmlTypeByName(name);
  if (type === undefined) throw new Error(`writeGguf: unknown ggml type "${name}"`);
  return type;
}

function writeKeyValue(writer: ByteWriter, entry: GgufWriteKeyValue): void {
  writer.string(entry.key, entry.keyLengthOverride);
  writer.uint32(entry.typeIdOverride ?? ggufValueTypeId(entry.type));
  if (entry.type !== "array") {
    const value = entry.value as number | bigint | boolean | string;
    if (entry.type === "string") writer.string(String(value), entry.lengthOverride);
    else writeValue(writer, entry.type, value);
    return;
  }
  const elementType = entry.elementType;
  if (elementType === undefined || elementType === "array") {
    throw new Error(`writeGguf: array "${entry.key}" needs a scalar elementType`);
  }
  const elements = entry.value as ArrayLike<number | bigint | boolean | string>;
  writer.uint32(ggufValueTypeId(elementType));
  writer.uint64(entry.lengthOverride ?? BigInt(elements.length));
  for (let index = 0; index < elements.length; index++) {
    writeValue(writer, elementType, elements[index] as number | bigint | boolean | string);
  }
}

function writeValue(
  writer: ByteWriter,
  type: GgufValueTypeName,
  value: number | bigint | boolean | string,
): void {
  switch (type) {
    case "uint8":
      return writer.uint8(Number(value));
    case "int8":
      return writer.int8(Number(value));
    case "uint16":
      return writer.uint16(Number(value));
    case "int16":
      return writer.int16(Number(value));
    case "uint32":
      return writer.uint32(Number(value));
    case "int32":
      return writer.int32(Number(value));
    case "float32":
      return writer.float32(Number(value));
    case "bool":
      return writer.uint8(value === true ? 1 : 0);
    case "string":
      return writer.string(String(value));
    case "uint64":
      return writer.uint64(value as bigint | number);
    case "int64":
      return writer.int64(value as bigint | number);
    case "float64":
      return writer.float64(Number(value));
    case "array":
      throw new Error("writeGguf: nested arrays are not supported");
  }
}
