/**
 * The file port the audit log writes segments through: node:fs by default; tests inject a
 * writer that fails (disk full, permission lost) without chmod tricks that root ignores.
 */
import { writeSync } from "node:fs";
import { open } from "node:fs/promises";

/** An open segment file, opened for appending. `FileHandle` is one. */
export interface AuditSegmentFile {
  write(text: string): Promise<unknown>;
  /** Makes what was written durable (fdatasync). */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/** Opens (creating, mode 0644) a segment file for appending. */
export type OpenSegmentFile = (path: string) => Promise<AuditSegmentFile>;

/**
 * The write is synchronous (ADR 0054): appending a record's line to the page cache is a
 * microsecond syscall, while a libuv pool round trip (a pool thread's wake-up, its completion
 * and one more event-loop turn) cost the main process far more CPU per request. The fdatasync,
 * which waits for the disk, stays on the pool: the event loop never waits for the disk.
 */
export const openSegmentFile: OpenSegmentFile = async (path) => {
  const handle = await open(path, "a", 0o644);
  return {
    write: (text) => {
      try {
        writeAll(handle.fd, Buffer.from(text));
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    datasync: () => handle.datasync(),
    close: () => handle.close(),
  };
};

/** A short write (a disk filling up) is continued until it fails with the error that stopped it. */
function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}
