/**
 * The file port the audit log writes segments through: node:fs by default; tests inject a
 * writer that fails (disk full, permission lost) without chmod tricks that root ignores.
 */
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

export const openSegmentFile: OpenSegmentFile = (path) => open(path, "a", 0o644);
