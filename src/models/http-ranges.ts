/** Small parsers for resumable downloads: Content-Range headers and the partial file's size. */
import { lstat } from "node:fs/promises";
import { AppError } from "../core/index.js";
import { isMissingFileError } from "./model-file.js";

/** `bytes 100-199/200` → 100; undefined when absent or unparsable. */
export function contentRangeStart(header: string | null): number | undefined {
  const match = header === null ? null : /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(header.trim());
  return match === null ? undefined : Number(match[1]);
}

/** `bytes 100-199/200` or `bytes *\/200` → 200; undefined for an unknown total or when absent. */
export function contentRangeTotal(header: string | null): number | undefined {
  const match = header === null ? null : /^bytes\s+(?:\d+-\d+|\*)\/(\d+)$/i.exec(header.trim());
  return match === null ? undefined : Number(match[1]);
}

/** Size of an existing partial download, 0 when there is none. Refuses anything but a plain file. */
export async function partialFileSize(partialPath: string): Promise<number> {
  try {
    const stats = await lstat(partialPath);
    if (!stats.isFile()) {
      throw new AppError(
        "bad-request",
        `Cannot resume into ${partialPath}: it is not a regular file. Remove it and pull again.`,
      );
    }
    return stats.size;
  } catch (error) {
    if (isMissingFileError(error)) return 0;
    throw error;
  }
}
