/**
 * The paths a workspace client may name: relative, `/`-separated, no `.` or `..` segment, no
 * hidden (dot) segment, no backslash or NUL. Checked before the file system sees anything; the
 * realpath containment check (core's locateInsideFolder) then catches links that point out.
 */
import { AppError } from "../core/index.js";

export const maxWorkspacePathLength = 1024;

/** The path's segments; throws AppError bad-request (malformed) or forbidden (out of bounds). */
export function parseWorkspacePath(raw: string | undefined): string[] {
  if (raw === undefined || raw === "")
    throw new AppError("bad-request", 'Name a file with the "path" parameter (relative to the workspace).', {
      param: "path",
    });
  if (raw.length > maxWorkspacePathLength)
    throw new AppError("bad-request", `The path is longer than ${maxWorkspacePathLength} characters.`, {
      param: "path",
    });
  if (raw.includes("\0") || raw.includes("\\"))
    throw new AppError(
      "bad-request",
      "The path contains a NUL or a backslash; use / between folders, relative to the workspace.",
      { param: "path" },
    );
  if (raw.startsWith("/"))
    throw new AppError(
      "forbidden",
      "Absolute paths are refused: name files relative to the workspace folder (src/main.ts).",
      { param: "path" },
    );
  const segments = raw.split("/").filter((segment) => segment !== "");
  for (const segment of segments) {
    if (segment === "." || segment === "..")
      throw new AppError(
        "forbidden",
        'Paths with "." or ".." segments are refused: nothing outside the workspace folder is read or written.',
        { param: "path" },
      );
    if (segment.startsWith("."))
      throw new AppError(
        "forbidden",
        `Hidden files and folders ("${segment}") are not served by the workspace; rename the file or open it another way.`,
        { param: "path" },
      );
  }
  if (segments.length === 0)
    throw new AppError("bad-request", 'Name a file with the "path" parameter.', { param: "path" });
  return segments;
}
