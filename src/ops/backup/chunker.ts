/**
 * Content-defined chunking (FastCDC-style gear hash with normalised chunking): cut points depend
 * on the bytes around them, not on offsets, so an insert near the start of a file changes only
 * the chunks around it and every later chunk keeps its id.
 */
import { createHash } from "node:crypto";

export interface ChunkerOptions {
  /** No cut before this many bytes. Default 8 KiB. */
  minBytes?: number;
  /** The size cuts aim for (a power of two). Default 32 KiB: a row rewritten every 400 KiB of a database changes ~8 % of its chunks. */
  averageBytes?: number;
  /** A cut is forced here. Default 128 KiB. */
  maxBytes?: number;
}

/** 256 pseudo-random 32-bit values, derived from SHA-256 so every build cuts at the same places. */
const gear: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index += 1)
    table[index] = createHash("sha256").update(`rawrxd-gear-${index}`).digest().readUInt32BE(0);
  return table;
})();

/** A mask of `bits` one-bits at the top of 32: the top bits of the gear hash see the most bytes. */
function topMask(bits: number): number {
  return bits <= 0 ? 0 : (((1 << bits) - 1) << (32 - bits)) >>> 0;
}

export class Chunker {
  readonly #minBytes: number;
  readonly #averageBytes: number;
  readonly #maxBytes: number;
  /** Before the average size: harder to cut (more bits); after it: easier. */
  readonly #maskSmall: number;
  readonly #maskLarge: number;
  #pending: Buffer = Buffer.alloc(0);

  constructor(options: ChunkerOptions = {}) {
    this.#averageBytes = options.averageBytes ?? 32 * 1024;
    this.#minBytes = options.minBytes ?? this.#averageBytes / 4;
    this.#maxBytes = options.maxBytes ?? this.#averageBytes * 4;
    const bits = Math.round(Math.log2(this.#averageBytes));
    if (!(this.#minBytes > 0 && this.#minBytes <= this.#averageBytes && this.#averageBytes <= this.#maxBytes))
      throw new Error(
        `Chunker sizes must satisfy 0 < min ≤ average ≤ max; got ${this.#minBytes}, ${this.#averageBytes}, ${this.#maxBytes}.`,
      );
    this.#maskSmall = topMask(bits + 2);
    this.#maskLarge = topMask(bits - 2);
  }

  /** Feeds bytes; returns the chunks completed by them (views into a private buffer: copy or use at once). */
  push(data: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? data : Buffer.concat([this.#pending, data]);
    const chunks: Buffer[] = [];
    let start = 0;
    for (;;) {
      const cut = this.#findCut(this.#pending, start);
      if (cut === undefined) break;
      chunks.push(this.#pending.subarray(start, cut));
      start = cut;
    }
    this.#pending = this.#pending.subarray(start);
    return chunks;
  }

  /** The last chunk (whatever is left), if any. */
  end(): Buffer[] {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    return rest.length === 0 ? [] : [rest];
  }

  /** The end of the chunk starting at `start`, or undefined when more bytes are needed to decide. */
  #findCut(data: Buffer, start: number): number | undefined {
    const available = data.length - start;
    if (available < this.#minBytes) return undefined;
    const normalEnd = start + Math.min(this.#averageBytes, available);
    const hardEnd = start + Math.min(this.#maxBytes, available);
    let hash = 0;
    let position = start + this.#minBytes;
    for (; position < normalEnd; position += 1) {
      hash = ((hash << 1) + gear[data[position]!]!) >>> 0;
      if ((hash & this.#maskSmall) === 0) return position + 1;
    }
    for (; position < hardEnd; position += 1) {
      hash = ((hash << 1) + gear[data[position]!]!) >>> 0;
      if ((hash & this.#maskLarge) === 0) return position + 1;
    }
    return available >= this.#maxBytes ? start + this.#maxBytes : undefined;
  }
}

/** Chunks a whole buffer (tests and small files). */
export function chunkBuffer(data: Buffer, options?: ChunkerOptions): Buffer[] {
  const chunker = new Chunker(options);
  return [...chunker.push(data), ...chunker.end()].map((chunk) => Buffer.from(chunk));
}
