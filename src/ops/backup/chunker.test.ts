import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { seededUint32 } from "../../core/index.js";
import { Chunker, chunkBuffer } from "./chunker.js";
import { chunkId } from "./chunk-store.js";

const sizes = { minBytes: 512, averageBytes: 2048, maxBytes: 8192 };

function seededBytes(length: number, seed: number): Buffer {
  const next = seededUint32(seed);
  const data = Buffer.alloc(length);
  for (let index = 0; index < length; index += 1) data[index] = next() & 0xff;
  return data;
}

describe("Chunker", () => {
  it("cuts within min and max and reassembles to the input", () => {
    const data = seededBytes(200_000, 1);
    const chunks = chunkBuffer(data, sizes);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(sizes.minBytes);
      expect(chunk.length).toBeLessThanOrEqual(sizes.maxBytes);
    }
    const average = data.length / chunks.length;
    expect(average).toBeGreaterThan(1000);
    expect(average).toBeLessThan(5000);
  });

  it("cuts at the same places however the bytes arrive", () => {
    const data = seededBytes(100_000, 2);
    const whole = chunkBuffer(data, sizes).map(chunkId);
    const chunker = new Chunker(sizes);
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < data.length; offset += 777)
      pieces.push(...chunker.push(data.subarray(offset, offset + 777)).map((chunk) => Buffer.from(chunk)));
    pieces.push(...chunker.end());
    expect(pieces.map(chunkId)).toEqual(whole);
  });

  it("an insert near the start changes only the chunks around it", () => {
    const data = seededBytes(300_000, 3);
    const edited = Buffer.concat([data.subarray(0, 5000), randomBytes(100), data.subarray(5000)]);
    const before = new Set(chunkBuffer(data, sizes).map(chunkId));
    const after = chunkBuffer(edited, sizes).map(chunkId);
    const changed = after.filter((id) => !before.has(id));
    expect(after.length).toBeGreaterThan(50);
    expect(changed.length).toBeLessThanOrEqual(3);
  });

  it("cuts a run of identical bytes at the maximum size", () => {
    const chunks = chunkBuffer(Buffer.alloc(20_000), sizes);
    expect(
      chunks.slice(0, -1).every((chunk) => chunk.length === sizes.maxBytes || chunk.length >= sizes.minBytes),
    ).toBe(true);
    expect(Buffer.concat(chunks).length).toBe(20_000);
  });
});
