import type { FileHandle } from "node:fs/promises";
import { createAbortError, GgufProblem } from "./gguf-problem.js";

export interface ChunkedFileReaderOptions {
  path: string;
  fileBytes: number;
  chunkBytes: number;
  /** Reading past this offset is a problem: it bounds the work a hostile header can cause. */
  maxHeaderBytes: number;
  signal?: AbortSignal | undefined;
}

const textDecoder = new TextDecoder("utf-8");

/**
 * Sequential little-endian reads over a file handle, one chunk at a time. Callers `need()` the
 * bytes first, which checks them against the end of the file and the header limit before any
 * read or allocation, then take them with the synchronous `read*` methods.
 */
export class ChunkedFileReader {
  /** File offset of the next unread byte. */
  position = 0;
  readonly fileBytes: number;
  private buffer: Buffer;
  private bufferStart = 0;
  private bufferLength = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly options: ChunkedFileReaderOptions,
  ) {
    this.fileBytes = options.fileBytes;
    this.buffer = Buffer.alloc(Math.min(options.chunkBytes, options.fileBytes));
  }

  get remainingBytes(): number {
    return this.fileBytes - this.position;
  }

  /** Makes `byteCount` bytes at `position` readable; `what` names them in the error. */
  async need(byteCount: number, what: string): Promise<void> {
    const end = this.position + byteCount;
    if (end > this.fileBytes) {
      throw new GgufProblem(
        `the file ends (size ${this.fileBytes} bytes) inside ${what}, which needs ${byteCount} bytes at offset ${this.position}; the file looks truncated`,
      );
    }
    if (end > this.options.maxHeaderBytes) {
      throw new GgufProblem(
        `the header runs past ${this.options.maxHeaderBytes} bytes (reading ${what} at offset ${this.position}), more than the reader allows`,
      );
    }
    if (this.position >= this.bufferStart && end <= this.bufferStart + this.bufferLength) return;
    await this.fill(byteCount);
  }

  /** Moves past bytes the caller has already checked against `remainingBytes`. */
  skip(byteCount: number): void {
    this.position += byteCount;
  }

  checkAborted(): void {
    const signal = this.options.signal;
    if (signal?.aborted) throw createAbortError(this.options.path, signal);
  }

  readUint8(): number {
    return this.buffer.readUInt8(this.advance(1));
  }
  readInt8(): number {
    return this.buffer.readInt8(this.advance(1));
  }
  readUint16(): number {
    return this.buffer.readUInt16LE(this.advance(2));
  }
  readInt16(): number {
    return this.buffer.readInt16LE(this.advance(2));
  }
  readUint32(): number {
    return this.buffer.readUInt32LE(this.advance(4));
  }
  readInt32(): number {
    return this.buffer.readInt32LE(this.advance(4));
  }
  readUint64(): bigint {
    return this.buffer.readBigUInt64LE(this.advance(8));
  }
  readInt64(): bigint {
    return this.buffer.readBigInt64LE(this.advance(8));
  }
  readFloat32(): number {
    return this.buffer.readFloatLE(this.advance(4));
  }
  readFloat64(): number {
    return this.buffer.readDoubleLE(this.advance(8));
  }
  readUtf8(byteCount: number): string {
    const start = this.advance(byteCount);
    return textDecoder.decode(this.buffer.subarray(start, start + byteCount));
  }

  private advance(byteCount: number): number {
    const index = this.position - this.bufferStart;
    this.position += byteCount;
    return index;
  }

  /** Refills the buffer from `position`; `byteCount` is already bounded by the file and header size. */
  private async fill(byteCount: number): Promise<void> {
    this.checkAborted();
    const wantedBytes = Math.min(Math.max(byteCount, this.options.chunkBytes), this.remainingBytes);
    if (this.buffer.length < wantedBytes) this.buffer = Buffer.alloc(wantedBytes);
    let filledBytes = 0;
    while (filledBytes < wantedBytes) {
      const { bytesRead } = await this.handle.read(
        this.buffer,
        filledBytes,
        wantedBytes - filledBytes,
        this.position + filledBytes,
      );
      // The file shrank after stat(): report it like any other truncation.
      if (bytesRead === 0) break;
      filledBytes += bytesRead;
    }
    this.bufferStart = this.position;
    this.bufferLength = filledBytes;
    if (filledBytes < byteCount) {
      throw new GgufProblem(
        `the file ended at offset ${this.position + filledBytes} while it was being read (it was ${this.fileBytes} bytes when opened)`,
      );
    }
  }
}
