// Whether dist/ holds a build of src/ that is current: `npm ci` and `npm start` compile src/ into
// dist/ (scripts/ensure-server-build.ts), and bin/rawrxd.js runs dist/ only while no file under
// src/ is newer than that build; otherwise it runs src/ through tsx (ADR 0060).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Written last by a complete build; its mtime is the build's. */
export const buildStampName = ".server-build";

/** The newest mtime (ms) of `path`: a file's own, a folder's newest file's, 0 when there is none. */
export function newestMtimeMs(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)));
  return newest;
}

/** True when `root`/dist was built from `root`/src as it is now. */
export function isServerBuildCurrent(root) {
  let builtMs;
  try {
    builtMs = statSync(join(root, "dist", buildStampName)).mtimeMs;
  } catch {
    return false;
  }
  return newestMtimeMs(join(root, "src")) <= builtMs;
}
