import type { ChunkedFileReader } from "./chunked-file-reader.js";
import { ggufValueMinimumBytes, ggufValueTypeNames, type GgufValueTypeName } from "./gguf-format.js";
import type { GgufLimits } from "./gguf-limits.js";
import { GgufProblem } from "./gguf-problem.js";

/** Stands in for an array longer than `GgufLimits.maxKeptArrayLength`, such as the vocabulary. */
export interface GgufArraySummary {
  type: "array";
  elementType: GgufValueTypeName;
  length: number;
}

/** uint64 and int64 values are numbers when they are safe integers, bigints otherwise. */
export type GgufMetadataValue =
  string | number | bigint | boolean | readonly GgufMetadataValue[] | GgufArraySummary;

export interface GgufKeyValue {
  key: string;
  type: GgufValueTypeName;
  /** Element type, for arrays. */
  elementType?: GgufValueTypeName;
  value: GgufMetadataValue;
}

/** Per-layer hyper-parameters are checked element by element, so they are kept up to 512 long. */
const perLayerKeyPattern =
  /\.(attention\.head_count|attention\.head_count_kv|feed_forward_length|expert_used_count)$/;
const maxLayers = 512;

export function isArraySummary(value: GgufMetadataValue): value is GgufArraySummary {
  return typeof value === "object" && !Array.isArray(value) && (value as GgufArraySummary).type === "array";
}

/** Reads `count` key/value pairs, rejecting empty and duplicate keys. */
export async function readKeyValues(
  reader: ChunkedFileReader,
  count: number,
  limits: GgufLimits,
): Promise<Map<string, GgufKeyValue>> {
  const entries = new Map<string, GgufKeyValue>();
  for (let index = 0; index < count; index++) {
    const key = await readString(reader, limits.maxKeyBytes, `the key of metadata entry ${index}`);
    if (key.length === 0) throw new GgufProblem(`metadata entry ${index} has an empty key`);
    if (entries.has(key)) throw new GgufProblem(`metadata key "${key}" appears twice`);
    const type = await readValueType(reader, `the value type of "${key}"`);
    const keptLength = perLayerKeyPattern.test(key) ? maxLayers : limits.maxKeptArrayLength;
    const context: ValueContext = { reader, limits, key, keptLength };
    if (type === "array") {
      const { elementType, value } = await readArray(context, 1);
      entries.set(key, { key, type, elementType, value });
    } else {
      entries.set(key, { key, type, value: await readScalar(context, type) });
    }
  }
  return entries;
}

interface ValueContext {
  reader: ChunkedFileReader;
  limits: GgufLimits;
  key: string;
  keptLength: number;
}

/** Each string of the vocabulary is a token: a far tighter bound than other strings get. */
function elementStringLimit(context: ValueContext): { maxBytes: number; what: string } {
  if (context.key === "tokenizer.ggml.tokens") {
    return { maxBytes: context.limits.maxTokenBytes, what: `a token in "${context.key}"` };
  }
  return { maxBytes: context.limits.maxStringBytes, what: `a string in the array "${context.key}"` };
}

async function readValueType(reader: ChunkedFileReader, what: string): Promise<GgufValueTypeName> {
  await reader.need(4, what);
  const id = reader.readUint32();
  const name = ggufValueTypeNames[id];
  if (name === undefined) {
    throw new GgufProblem(`${what} is ${id}, which is not a GGUF value type (0 to 12)`);
  }
  return name;
}

/** Reads a uint64 length and checks it against a limit before anything is allocated for it. */
async function readLength(reader: ChunkedFileReader, maxLength: number, what: string): Promise<number> {
  await reader.need(8, `the length of ${what}`);
  const length = reader.readUint64();
  if (length > BigInt(maxLength)) {
    throw new GgufProblem(`${what} claims a length of ${length}, more than the limit of ${maxLength}`);
  }
  return Number(length);
}

export async function readString(reader: ChunkedFileReader, maxBytes: number, what: string): Promise<string> {
  const byteCount = await readLength(reader, maxBytes, what);
  await reader.need(byteCount, what);
  return reader.readUtf8(byteCount);
}

async function skipString(reader: ChunkedFileReader, maxBytes: number, what: string): Promise<void> {
  const byteCount = await readLength(reader, maxBytes, what);
  if (byteCount > reader.remainingBytes) await reader.need(byteCount, what);
  reader.skip(byteCount);
}

async function readScalar(context: ValueContext, type: GgufValueTypeName): Promise<GgufMetadataValue> {
  const { reader, key } = context;
  if (type === "string")
    return readString(reader, context.limits.maxStringBytes, `the string value of "${key}"`);
  await reader.need(ggufValueMinimumBytes[type], `the ${type} value of "${key}"`);
  return readFixedValue(reader, type);
}

function readFixedValue(reader: ChunkedFileReader, type: GgufValueTypeName): GgufMetadataValue {
  switch (type) {
    case "uint8":
      return reader.readUint8();
    case "int8":
      return reader.readInt8();
    case "uint16":
      return reader.readUint16();
    case "int16":
      return reader.readInt16();
    case "uint32":
      return reader.readUint32();
    case "int32":
      return reader.readInt32();
    case "float32":
      return reader.readFloat32();
    case "bool":
      return reader.readUint8() !== 0;
    case "uint64":
      return toNumberIfSafe(reader.readUint64());
    case "int64":
      return toNumberIfSafe(reader.readInt64());
    case "float64":
      return reader.readFloat64();
    case "string":
    case "array":
      throw new Error(`readFixedValue cannot read a ${type}`);
  }
}

function toNumberIfSafe(value: bigint): number | bigint {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value;
}

async function readArray(
  context: ValueContext,
  depth: number,
): Promise<{ elementType: GgufValueTypeName; value: GgufMetadataValue }> {
  const { reader, limits, key } = context;
  const what = `the array value of "${key}"`;
  if (depth > limits.maxArrayDepth) {
    throw new GgufProblem(`${what} nests arrays deeper than the limit of ${limits.maxArrayDepth}`);
  }
  const elementType = await readValueType(reader, `the element type of ${what}`);
  const length = await readLength(reader, limits.maxArrayLength, what);
  const minimumBytes = length * ggufValueMinimumBytes[elementType];
  if (minimumBytes > reader.remainingBytes) {
    throw new GgufProblem(
      `${what} claims ${length} ${elementType} elements (at least ${minimumBytes} bytes) at offset ${reader.position}, past the end of the file (size ${reader.fileBytes})`,
    );
  }
  const isKept = length <= context.keptLength;
  if (!isKept && elementType !== "string" && elementType !== "array") {
    reader.skip(minimumBytes);
    return { elementType, value: { type: "array", elementType, length } };
  }
  const elements: GgufMetadataValue[] = [];
  for (let index = 0; index < length; index++) {
    if (elementType === "array") {
      const { value } = await readArray(context, depth + 1);
      if (isKept) elements.push(value);
    } else if (elementType === "string") {
      const { maxBytes, what: element } = elementStringLimit(context);
      if (isKept) elements.push(await readString(reader, maxBytes, `${element} (index ${index})`));
      else await skipString(reader, maxBytes, `${element} (index ${index})`);
    } else {
      elements.push(await readScalar(context, elementType));
    }
  }
  return { elementType, value: isKept ? elements : { type: "array", elementType, length } };
}
