import { open, type FileHandle } from "node:fs/promises";
import { planGgufLayout, type GgufHeaderContents, type GgufWriteTensor } from "./gguf-encoding.js";

export interface WriteGgufOptions extends GgufHeaderContents {
  /** Malformation: stop the file after this many bytes. */
  truncateAtByte?: number;
}

export interface WrittenGguf {
  path: string;
  fileBytes: number;
  tensorDataOffset: number;
}

const flushBytes = 4 * 1024 * 1024;

/**
 * Writes a GGUF file for tests and benchmarks, streaming tensor data so that a model never has
 * to fit in memory. The malformation options produce broken files on purpose.
 */
export async function writeGguf(path: string, options: WriteGgufOptions): Promise<WrittenGguf> {
  const layout = planGgufLayout(options);
  const handle = await open(path, "w");
  try {
    const sink = new FileSink(handle, options.truncateAtByte ?? Infinity);
    await sink.write(layout.header);
    await sink.writeZeros(layout.tensorDataOffset - layout.header.length);
    let position = 0;
    for (const { tensor, offset, bytes } of layout.tensors) {
      await sink.writeZeros(offset - position);
      await writeTensorData(sink, tensor, bytes);
      position = offset + bytes;
    }
    await sink.flush();
    return { path, fileBytes: sink.bytesWritten, tensorDataOffset: layout.tensorDataOffset };
  } finally {
    await handle.close();
  }
}

/** The size `writeGguf` would produce, without writing anything. */
export function measureGguf(options: GgufHeaderContents): number {
  return planGgufLayout(options).fileBytes;
}

async function writeTensorData(
  sink: FileSink,
  tensor: GgufWriteTensor,
  expectedBytes: number,
): Promise<void> {
  const { data } = tensor;
  if (data === undefined) return sink.writeZeros(expectedBytes);
  let writtenBytes = 0;
  for (const chunk of data instanceof Uint8Array ? [data] : data()) {
    writtenBytes += chunk.length;
    if (writtenBytes > expectedBytes) break;
    await sink.write(chunk);
  }
  if (writtenBytes !== expectedBytes) {
    throw new Error(
      `writeGguf: tensor "${tensor.name}" got ${writtenBytes > expectedBytes ? "more than " : ""}${writtenBytes} bytes of data, but its shape and type need ${expectedBytes}`,
    );
  }
}

/** Batches small writes into large ones and drops everything past `limitBytes`. */
class FileSink {
  bytesWritten = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly limitBytes: number,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    const keptBytes = Math.min(bytes.length, this.limitBytes - this.bytesWritten - this.pendingBytes);
    if (keptBytes <= 0) return;
    // Copy: generators may reuse their chunk buffer after yielding it.
    this.pending.push(bytes.slice(0, keptBytes));
    this.pendingBytes += keptBytes;
    if (this.pendingBytes >= flushBytes) await this.flush();
  }

  async writeZeros(byteCount: number): Promise<void> {
    for (let remaining = byteCount; remaining > 0; remaining -= flushBytes) {
      await this.write(new Uint8Array(Math.min(remaining, flushBytes)));
    }
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const joined = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let offset = 0;
    while (offset < joined.length) {
      const { bytesWritten } = await this.handle.write(joined, offset, joined.length - offset);
      offset += bytesWritten;
    }
    this.bytesWritten += joined.length;
  }
}
