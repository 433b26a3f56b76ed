import type { Stats } from "node:fs";

/** What a file that is not a regular file is, for errors: "a directory", "a FIFO (named pipe)", … */
export function describeFileKind(
  stats: Pick<
    Stats,
    | "isDirectory"
    | "isFIFO"
    | "isCharacterDevice"
    | "isBlockDevice"
    | "isSocket"
    | "isSymbolicLink"
    | "isFile"
  >,
): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "a special file";
}
