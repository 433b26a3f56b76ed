// Whether dist/ holds a build of src/ that is current: `npm ci` and `npm start` compile src/ into
// dist/ (scripts/ensure-server-build.ts), and bin/rawrxd.js runs dist/ only while no file under
// src/ is newer than that build; otherwise it runs src/ through tsx (ADR 0060).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Written last by a complete build; its mtime is the build's. */
export const buildStampName = ".server-build";

/** The newest mtime (ms) of any file under `directory`, 0 when there is none. */
export function newestMtimeMs(directory) {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    const mtimeMs = entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs;
    if (mtimeMs > newest) newest = mtimeMs;
  }
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
