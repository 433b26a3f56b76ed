import { seededUint32 } from "../core/index.js";
import { float32ToFloat16Bits } from "./float16.js";

/** Seeded random tensor data for synthetic models: deterministic, fast, and streamed in chunks. */
export type SyntheticTensorType = "F32" | "F16" | "Q8_0";

const chunkElements = 256 * 1024;
/** Weights are uniform in ±0.035 (standard deviation about 0.02), like an untrained model. */
const weightRange = 0.035;
/** Q8_0 blocks use one fixed scale, 2^-12, so int8 values come straight from the generator. */
const q8ScaleBits = float32ToFloat16Bits(2 ** -12);
const q8BlockElements = 32;
const q8BlockBytes = 34;

export interface WeightOptions {
  type: SyntheticTensorType;
  elementCount: number;
  seed: number;
}

/** Random weights of the given type, in chunks of about 1 MiB. */
export function* generateRandomWeights({ type, elementCount, seed }: WeightOptions): Generator<Uint8Array> {
  const random = seededUint32(seed);
  const nextWeight = (): number => ((random() / 0x1_0000_0000) * 2 - 1) * weightRange;
  for (let done = 0; done < elementCount; done += chunkElements) {
    const count = Math.min(chunkElements, elementCount - done);
    if (type === "F32") {
      const values = new Float32Array(count);
      for (let index = 0; index < count; index++) values[index] = nextWeight();
      yield new Uint8Array(values.buffer);
    } else if (type === "F16") {
      const values = new Uint16Array(count);
      for (let index = 0; index < count; index++) values[index] = float32ToFloat16Bits(nextWeight());
      yield new Uint8Array(values.buffer);
    } else {
      yield generateQ8Blocks(count / q8BlockElements, random);
    }
  }
}

function generateQ8Blocks(blockCount: number, random: () => number): Uint8Array {
  const bytes = new Uint8Array(blockCount * q8BlockBytes);
  for (let block = 0; block < blockCount; block++) {
    let position = block * q8BlockBytes;
    bytes[position++] = q8ScaleBits & 0xff;
    bytes[position++] = q8ScaleBits >>> 8;
    for (let word = 0; word < q8BlockElements / 4; word++) {
      const value = random();
      bytes[position++] = value;
      bytes[position++] = value >>> 8;
      bytes[position++] = value >>> 16;
      bytes[position++] = value >>> 24;
    }
  }
  return bytes;
}

/** A tensor of ones (norm weights), always F32. */
export function* generateOnes(elementCount: number): Generator<Uint8Array> {
  for (let done = 0; done < elementCount; done += chunkElements) {
    const values = new Float32Array(Math.min(chunkElements, elementCount - done)).fill(1);
    yield new Uint8Array(values.buffer);
  }
}
